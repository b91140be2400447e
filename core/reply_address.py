"""Reply addresses: where a channel can write to a customer later, said by that channel.

A customer who agrees to be told here when their claim moves gives the services an
address to write to: the WhatsApp number or user id, the Telegram chat id, the
Messenger PSID, or on the widget the conversation itself. The action server only
passes the address on; so that nobody holding the service token alone can have notices
sent to an address of their choosing (or withdraw someone else's), the channel signs
it: a JWT HS256 signed with `CHANNEL_ASSERTION_SECRET` (which only the Rasa servers and
the services hold), made afresh with each message (connectors/pipeline.py, reserved
metadata `channel_reply_address`), valid a few minutes. The services record a consent,
or withdraw the consents of an address, only on such an assertion (verify).

Claims: `channel`, `address`, `conversation_id`, `iat`, `exp`, and a fixed issuer and
audience so that no other token of ours (a phone assertion, an identity assertion) is
ever taken for one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import jwt

SECRET_VARIABLE = "CHANNEL_ASSERTION_SECRET"
METADATA_KEY = "channel_reply_address"
ISSUER = "oyat-channels"
AUDIENCE = "oyat-notices"
# Long enough for the turn of the message that carries it, short enough that one seen by
# accident is soon worthless.
LIFETIME = timedelta(minutes=5)
# The channels that can write to a customer later (never the phone line nor the REST API).
NOTICE_CHANNELS = frozenset({"widget", "whatsapp", "telegram", "messenger"})
_REQUIRED_CLAIMS = ["iss", "aud", "channel", "address", "conversation_id", "iat", "exp"]


@dataclass(frozen=True)
class ReplyAddress:
    channel: str
    address: str
    conversation_id: str


class ReplyAddressRefused(Exception):
    """No proof of the address; `code` is the services' error code:
    `reply_address_required` (none) or `reply_address_invalid` (forged, expired, of a
    channel that cannot write later)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def issue(secret: str, channel: str, address: str, conversation_id: str, now: datetime,
          lifetime: timedelta = LIFETIME) -> str:
    """The signed assertion that the customer of `conversation_id` on `channel` is reached at
    `address` (on the widget: the conversation id itself)."""
    if not secret:
        raise ValueError("no secret to sign reply addresses with")
    if channel not in NOTICE_CHANNELS:
        raise ValueError(f"{channel!r} cannot write to a customer later")
    if not address or not conversation_id:
        raise ValueError("a reply address needs an address and a conversation")
    return jwt.encode({
        "iss": ISSUER, "aud": AUDIENCE, "channel": channel, "address": address,
        "conversation_id": conversation_id,
        "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp()),
    }, secret, algorithm="HS256")


def verify(secret: str, token: Optional[str], now: datetime,
           expired_grace: timedelta = timedelta(0)) -> ReplyAddress:
    """The address `token` says, when a channel signed it and it is still valid (or expired
    for less than `expired_grace`: the consent given with a claim queued during an outage,
    recorded when the claim is filed); ReplyAddressRefused otherwise."""
    if not token:
        raise ReplyAddressRefused("reply_address_required")
    if not secret or not isinstance(token, str):
        raise ReplyAddressRefused("reply_address_invalid")
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
            options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise ReplyAddressRefused("reply_address_invalid") from None
    expires = claims["exp"]
    # Checked here on the caller's clock (PyJWT would read the system's).
    if type(expires) is not int or expires + expired_grace.total_seconds() <= now.timestamp():
        raise ReplyAddressRefused("reply_address_invalid")
    channel, address, conversation = claims["channel"], claims["address"], claims["conversation_id"]
    if channel not in NOTICE_CHANNELS or not all(isinstance(v, str) and v for v in (address, conversation)):
        raise ReplyAddressRefused("reply_address_invalid")
    return ReplyAddress(channel, address, conversation)


def claimed_channel(token: Optional[str]) -> Optional[str]:
    """The channel `token` names, unverified: only to name it in a request to the services,
    which verify the token itself."""
    try:
        channel = jwt.decode(token or "", options={"verify_signature": False}).get("channel")
    except jwt.PyJWTError:
        return None
    return channel if isinstance(channel, str) else None
