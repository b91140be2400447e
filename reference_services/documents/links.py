"""Signed, expiring download links: HMAC-SHA256 over the document id and expiry."""
from __future__ import annotations

import enum
import hashlib
import hmac
from typing import Optional
from urllib.parse import urlencode

# A unix time has 10 digits until the year 2286: more is no expiry we signed, and
# Python refuses to read an int of more than 4300 digits (a server error).
MAX_EXPIRY_DIGITS = 12


class LinkCheck(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    EXPIRED = "expired"


def sign(document_id: str, expires: int, secret: str) -> str:
    """Hex signature binding a document to an expiry (unix seconds)."""
    message = f"{document_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_url(public_url: str, document_id: str, expires: int, secret: str) -> str:
    """The download URL handed to customers."""
    query = urlencode({"expires": expires, "signature": sign(document_id, expires, secret)})
    return f"{public_url.rstrip('/')}/v1/documents/{document_id}.pdf?{query}"


def check_link(
    document_id: str, expires: Optional[str], signature: Optional[str], secret: str, now: int
) -> LinkCheck:
    """Signature first (constant time), then expiry: a forged link learns nothing."""
    if not expires or not signature or not (
            len(expires) <= MAX_EXPIRY_DIGITS and expires.isascii() and expires.isdigit()):
        return LinkCheck.INVALID
    expected = sign(document_id, int(expires), secret)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        return LinkCheck.INVALID
    if int(expires) < now:
        return LinkCheck.EXPIRED
    return LinkCheck.VALID
