"""Signed identity assertions: who the customer is, said by the service that verified it.

The policy service issues one where it verifies an identity (the SMS code, the
caller's number on the telephone line, an espace-client session token); both
services require one on every customer-scoped call. The action server carries it
(header `X-Identity-Assertion`) but cannot make one: it is a JWT signed HS256 with
`IDENTITY_ASSERTION_SECRET`, which only the two services hold, so that neither a
forged conversation nor a caller holding only the service token reaches a
customer's data.

Claims: `sub` (customer id), `verified_by` (how), `channel` and `conversation_id`
(where it was issued: the actions refuse one from another conversation), `iat`,
`exp`, and a fixed issuer and audience so that no other token signed with some
other secret of ours is ever taken for one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import jwt

HEADER = "X-Identity-Assertion"
ISSUER = "oyat-policy"
AUDIENCE = "oyat-services"
VERIFIED_BY = ("espace_client_token", "sms_code", "caller_number")
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "verified_by", "channel", "conversation_id", "iat", "exp"]


class AssertionRefused(Exception):
    """An assertion that proves nothing; `code` is the services' error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class IdentityAssertion:
    customer_id: str
    verified_by: str
    channel: str
    conversation_id: str
    issued_at: datetime
    expires_at: datetime


def issue(
    secret: str, customer_id: str, verified_by: str, channel: str, conversation_id: str,
    now: datetime, lifetime: timedelta,
) -> tuple[str, datetime]:
    """The signed assertion and when it expires."""
    if not secret:
        raise ValueError("no secret to sign identity assertions with")
    if verified_by not in VERIFIED_BY:
        raise ValueError(f"unknown verification method {verified_by!r}")
    expires_at = now + lifetime
    token = jwt.encode({
        "iss": ISSUER, "aud": AUDIENCE, "sub": customer_id, "verified_by": verified_by,
        "channel": channel, "conversation_id": conversation_id,
        "iat": int(now.timestamp()), "exp": int(expires_at.timestamp()),
    }, secret, algorithm="HS256")
    return token, datetime.fromtimestamp(int(expires_at.timestamp()), tz=now.tzinfo)


def verify(
    token: Optional[str], secret: str, now: datetime, expired_grace: timedelta = timedelta(0),
) -> IdentityAssertion:
    """The assertion `token` carries, or AssertionRefused: `identity_required` (none),
    `identity_invalid` (forged, malformed, not ours) or `identity_expired` (expired for
    longer than `expired_grace`)."""
    if not token:
        raise AssertionRefused("identity_required")
    if not secret:
        raise AssertionRefused("identity_invalid")
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
            options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise AssertionRefused("identity_invalid") from None
    subject, method = claims["sub"], claims["verified_by"]
    expires, issued = claims["exp"], claims["iat"]
    if not (isinstance(subject, str) and len(subject) == 8 and subject.isascii() and subject.isdigit()
            and method in VERIFIED_BY and isinstance(claims["channel"], str)
            and isinstance(claims["conversation_id"], str)
            and type(expires) is int and type(issued) is int):
        raise AssertionRefused("identity_invalid")
    # Checked here rather than by PyJWT: the grace of queued claim filings is ours.
    if expires + expired_grace.total_seconds() <= now.timestamp():
        raise AssertionRefused("identity_expired")
    return IdentityAssertion(
        customer_id=subject, verified_by=method, channel=claims["channel"],
        conversation_id=claims["conversation_id"],
        issued_at=datetime.fromtimestamp(issued, tz=now.tzinfo),
        expires_at=datetime.fromtimestamp(expires, tz=now.tzinfo),
    )
