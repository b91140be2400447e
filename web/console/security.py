"""The console's session cookie, its CSRF token, the same-origin check and its headers.

The cookie holds the policy service's session token, which the policy service checks on
every page (the web process keeps no session of its own). A POST is accepted only from a
page of the console: its Origin (or, lacking one, its Referer) is this host, and it
carries the CSRF token, an HMAC of the session token that another site cannot compute
(it cannot read the cookie).
"""

import hashlib
import hmac
from typing import Optional
from urllib.parse import urlsplit

from sanic.request import Request
from sanic.response import HTTPResponse

COOKIE = "oyat_conseiller"
PATH = "/conseiller"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
# The policy service ends a session after 10 hours whatever happens: the cookie no later.
COOKIE_MAX_AGE_SECONDS = 10 * 3600

HEADERS = {
    # No inline script, no framing, forms posted to the console only.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    # Not « no-referrer »: with it a browser sends `Origin: null` on a POST, and the
    # same-origin check could not tell the console's forms from another site's. The
    # console's addresses reach no other site ("same-origin").
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def scheme(request: Request) -> str:
    """The scheme the browser used: the proxy's X-Forwarded-Proto when it says so."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded if forwarded in ("http", "https") else request.scheme


def session_token(request: Request) -> Optional[str]:
    token = request.cookies.get(COOKIE)
    # The policy service's tokens are short URL-safe strings: anything else is no session.
    if not token or len(token) > 256 or not token.isascii() or not token.isprintable():
        return None
    return token


def set_session(response: HTTPResponse, request: Request, token: str) -> None:
    response.cookies[COOKIE] = token
    cookie = response.cookies[COOKIE]
    cookie["path"] = PATH
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = COOKIE_MAX_AGE_SECONDS
    if scheme(request) == "https":
        cookie["secure"] = True


def clear_session(response: HTTPResponse, request: Request) -> None:
    set_session(response, request, "")
    response.cookies[COOKIE]["max-age"] = 0


def csrf_token(session: str) -> str:
    """HMAC-SHA256 keyed by the session token: only a page the cookie opened shows it."""
    return hmac.new(session.encode(), b"csrf", hashlib.sha256).hexdigest()


def csrf_valid(request: Request, session: str) -> bool:
    given = request.headers.get(CSRF_HEADER) or (request.form.get(CSRF_FIELD) if request.form else None) or ""
    return hmac.compare_digest(given.encode(), csrf_token(session).encode())


def same_origin(request: Request) -> bool:
    """The request comes from a page of this host (Origin, else Referer); neither: refused."""
    expected = f"{scheme(request)}://{request.host}".lower()
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() == expected
    referer = request.headers.get("referer")
    if not referer:
        return False
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}".lower() == expected


def add_headers(response: HTTPResponse) -> None:
    for name, value in HEADERS.items():
        response.headers[name] = value
