"""Who may call: a shared bearer token for every caller, and for every call about one
customer, that customer's identity assertion (core/identity_assertion.py)."""
from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any, Optional

from sanic.response import HTTPResponse

from core import identity_assertion
from core.clock import now_utc
from reference_services.errors import ServiceError, error_response


def is_valid_token(header_value: Optional[str], expected_token: str) -> bool:
    """Whether `Authorization: Bearer <token>` carries the expected token."""
    scheme, _, token = (header_value or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected_token.encode())


async def require_service_token(request: Any) -> Optional[HTTPResponse]:
    """Request middleware: refuse every non-public route without its caller's token:
    the advisers' console's (`ctx_console` routes; none configured: every one refused),
    the notifier's (`ctx_notifier` routes, NOTIFIER_TOKEN; likewise) or the services' for
    every other route. None opens another's routes.

    It answers instead of raising because sanic 21.12 runs request middleware
    again while handling errors, where a raise would not be caught.
    """
    route = request.route
    if route is None or getattr(route.ctx, "public", False):
        return None
    settings = request.app.ctx.settings
    console = getattr(route.ctx, "console", False)
    notifier = getattr(route.ctx, "notifier", False)  # D: the notifier's routes (NOTIFIER_TOKEN)
    expected = settings.adviser_console_token if console else settings.services_api_token
    if console and expected == settings.services_api_token:
        expected = ""  # one token for both would let the action server act as an adviser
    if notifier:
        expected = settings.notifier_token
        if expected in (settings.services_api_token, settings.adviser_console_token):
            expected = ""  # a token shared with another caller opens none of the notifier's routes
    if expected and is_valid_token(request.headers.get("authorization"), expected):
        return None
    return error_response(ServiceError("unauthorized", headers={"WWW-Authenticate": "Bearer"}))


def check_identity(request: Any, customer_id: str, expired_grace: timedelta = timedelta(0)) -> None:
    """Raises unless the request's identity assertion is valid and names `customer_id`."""
    settings = request.app.ctx.settings
    try:
        asserted = identity_assertion.verify(
            request.headers.get(identity_assertion.HEADER), settings.identity_assertion_secret,
            now_utc(), expired_grace,
        )
    except identity_assertion.AssertionRefused as refusal:
        raise ServiceError(refusal.code) from None
    if not hmac.compare_digest(asserted.customer_id.encode(), customer_id.encode()):
        raise ServiceError("identity_forbidden")


def queued_claim_grace(request: Any) -> timedelta:
    """How long after its expiry an assertion still files a queued claim (or hands it
    over when refused): the claim outbox files a claim the customer confirmed while the
    claims service was down, with the assertion of that moment, maybe days later; the
    idempotency key keeps such a filing from doing anything twice."""
    return timedelta(seconds=request.app.ctx.settings.queued_claim_identity_grace_seconds)


async def require_identity_assertion(request: Any) -> Optional[HTTPResponse]:
    """Request middleware, after the service token's: a route under
    /v1/customers/{customer_id}/ needs that customer's assertion, except the routes
    where the customer identifies (`ctx_identifies`). Refused before the handler runs,
    so nothing is read or written. The claim filing route (`ctx_filing_grace`) also
    takes an assertion expired within the grace of queued claims (docs/services-api.md)."""
    route = request.route
    if route is None or getattr(route.ctx, "identifies", False):
        return None
    customer_id = request.match_info.get("customer_id")
    if customer_id is None:
        return None
    grace = timedelta(0)
    if getattr(route.ctx, "filing_grace", False) and request.headers.get("idempotency-key"):
        grace = queued_claim_grace(request)
    try:
        check_identity(request, customer_id, grace)
    except ServiceError as error:
        return error_response(error)
    return None
