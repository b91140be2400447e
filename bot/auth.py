"""Service-to-service authentication: a shared bearer token."""
from __future__ import annotations

import hmac
from typing import Any, Optional

from sanic.response import HTTPResponse

from bot.errors import ServiceError, error_response


def is_valid_token(header_value: Optional[str], expected_token: str) -> bool:
    """Whether `Authorization: Bearer <token>` carries the expected token."""
    scheme, _, token = (header_value or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected_token.encode())


async def require_service_token(request: Any) -> Optional[HTTPResponse]:
    """Request middleware: refuse every non-public route without the token.

    It answers instead of raising because sanic 21.12 runs request middleware
    again while handling errors, where a raise would not be caught.
    """
    route = request.route
    if route is None or getattr(route.ctx, "public", False):
        return None
    expected = request.app.ctx.settings.services_api_token
    if is_valid_token(request.headers.get("authorization"), expected):
        return None
    return error_response(ServiceError("unauthorized", headers={"WWW-Authenticate": "Bearer"}))
