"""Channel assertions: the phone number a channel verified, said by that channel.

On the telephone line the policy service identifies a caller by their number and
birth date, without an SMS code. The number is the call's caller, which the voice
gateway gave the Rasa server's telephone channel; the action server only passes it
on. So that nobody holding the service token alone can name a customer's number,
the channel signs it: a JWT HS256 signed with `CHANNEL_ASSERTION_SECRET`, which only
the Rasa servers and the policy service hold, made afresh with each message of the
call (connectors/ivr.py, reserved metadata `channel_phone_assertion`) and valid a few
minutes. The policy service identifies without a code only on such an assertion of
the number, the channel and the conversation of the check.

Claims: `phone` (E.164), `channel`, `conversation_id`, `iat`, `exp`, and a fixed
issuer and audience so that no other token of ours is ever taken for one.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

import jwt

SECRET_VARIABLE = "CHANNEL_ASSERTION_SECRET"
METADATA_KEY = "channel_phone_assertion"
ISSUER = "oyat-channels"
AUDIENCE = "oyat-policy"
# Long enough for the turn of the message that carries it, short enough that one seen
# by accident is soon worthless.
LIFETIME = timedelta(minutes=5)
# The channels whose verified number identifies without a code (spec §5: the phone line).
CODELESS_CHANNELS = frozenset({"ivr"})
_REQUIRED_CLAIMS = ["iss", "aud", "phone", "channel", "conversation_id", "iat", "exp"]


class ChannelAssertionRefused(Exception):
    """No proof that the channel verified the number; `code` is the services' error code:
    `channel_assertion_required` (none) or `channel_assertion_invalid` (forged, expired,
    or of another number, channel or conversation)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def issue(secret: str, phone: str, channel: str, conversation_id: str, now: datetime,
          lifetime: timedelta = LIFETIME) -> str:
    """The signed assertion that `channel` verified `phone` in `conversation_id`."""
    if not secret:
        raise ValueError("no secret to sign channel assertions with")
    return jwt.encode({
        "iss": ISSUER, "aud": AUDIENCE, "phone": phone, "channel": channel,
        "conversation_id": conversation_id,
        "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp()),
    }, secret, algorithm="HS256")


def verify(token: Optional[str], secret: str, *, phone: str, channel: str, conversation_id: str,
           now: datetime) -> None:
    """Returns when `token` says that `channel`, one that identifies without a code,
    verified `phone` in `conversation_id`, and is still valid; ChannelAssertionRefused
    otherwise."""
    if not token:
        raise ChannelAssertionRefused("channel_assertion_required")
    if not secret or channel not in CODELESS_CHANNELS:
        raise ChannelAssertionRefused("channel_assertion_invalid")
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
            options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise ChannelAssertionRefused("channel_assertion_invalid") from None
    expires = claims["exp"]
    # Checked here on the caller's clock (PyJWT would read the system's).
    if type(expires) is not int or expires <= now.timestamp():
        raise ChannelAssertionRefused("channel_assertion_invalid")
    if (claims["phone"], claims["channel"], claims["conversation_id"]) != (phone, channel, conversation_id):
        raise ChannelAssertionRefused("channel_assertion_invalid")
