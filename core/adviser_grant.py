"""Signed adviser grants: which adviser may see, or answer, which conversation.

The policy service, which checks the adviser's session and records every opening of a
hand-off, issues one with each hand-off it shows the console; the Rasa servers act on a
conversation (read it, pause it, send the adviser's words, resume it) only with a grant for
that conversation. It is a JWT signed HS256 with `ADVISER_GRANT_SECRET`, which the policy
service and the Rasa servers hold and the web process never does: the console's token alone
reads no conversation, and a grant for one conversation opens no other.

Claims: `sub` (the adviser's login), `name` (as told to the customer), `handoff` (the
reference), `conversation_id`, `channel`, `scope` ("read": see the conversation; "write":
also take it, answer and close it), `iat`, `exp`, a fixed issuer and audience.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import jwt

HEADER = "X-Adviser-Grant"
ISSUER = "oyat-policy"
AUDIENCE = "oyat-rasa-advisers"
SCOPES = ("read", "write")
# The console fetches the hand-off again (and a fresh grant) while the adviser works on it.
GRANT_LIFETIME = timedelta(minutes=15)
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "name", "handoff", "conversation_id", "channel", "scope", "iat", "exp"]


class GrantRefused(Exception):
    """A grant that opens nothing; `code`: grant_required, grant_invalid, grant_expired,
    grant_other_conversation or grant_read_only."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class AdviserGrant:
    adviser_login: str
    adviser_name: str
    reference: str
    conversation_id: str
    channel: str
    scope: str
    expires_at: datetime

    @property
    def writes(self) -> bool:
        return self.scope == "write"


def issue(secret: str, *, adviser_login: str, adviser_name: str, reference: str, conversation_id: str,
          channel: str, scope: str, now: datetime, lifetime: timedelta = GRANT_LIFETIME) -> tuple[str, datetime]:
    """The signed grant and when it expires."""
    if not secret:
        raise ValueError("no secret to sign adviser grants with")
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    expires_at = now + lifetime
    token = jwt.encode({
        "iss": ISSUER, "aud": AUDIENCE, "sub": adviser_login, "name": adviser_name, "handoff": reference,
        "conversation_id": conversation_id, "channel": channel, "scope": scope,
        "iat": int(now.timestamp()), "exp": int(expires_at.timestamp()),
    }, secret, algorithm="HS256")
    return token, datetime.fromtimestamp(int(expires_at.timestamp()), tz=now.tzinfo)


def verify(token: Optional[str], secret: str, now: datetime, conversation_id: str,
           scope: str = "read") -> AdviserGrant:
    """The grant `token` carries for `conversation_id` with at least `scope`, or GrantRefused."""
    if not token:
        raise GrantRefused("grant_required")
    if not secret:
        raise GrantRefused("grant_invalid")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False})
    except jwt.PyJWTError:
        raise GrantRefused("grant_invalid") from None
    texts = ("sub", "name", "handoff", "conversation_id", "channel")
    if not (all(isinstance(claims[name], str) and claims[name] for name in texts)
            and claims["scope"] in SCOPES and type(claims["exp"]) is int and type(claims["iat"]) is int):
        raise GrantRefused("grant_invalid")
    if claims["exp"] <= now.timestamp():
        raise GrantRefused("grant_expired")
    if claims["conversation_id"] != conversation_id:
        raise GrantRefused("grant_other_conversation")
    if scope == "write" and claims["scope"] != "write":
        raise GrantRefused("grant_read_only")
    return AdviserGrant(
        adviser_login=claims["sub"], adviser_name=claims["name"], reference=claims["handoff"],
        conversation_id=claims["conversation_id"], channel=claims["channel"], scope=claims["scope"],
        expires_at=datetime.fromtimestamp(claims["exp"], tz=now.tzinfo),
    )
