"""The app factory: one or both services behind one sanic app."""
from __future__ import annotations

import itertools
from typing import Any, Iterable

from sanic import Sanic
from sanic.response import HTTPResponse
from sqlalchemy import text

from bot.auth import require_identity_assertion, require_service_token
from bot.db import install_database
from bot.errors import JsonErrorHandler, ServiceError
from bot.openapi import build_openapi
from bot.responses import json_response
from bot.settings import Settings

SERVICES = ("policy", "claims")
# JSON bodies are small: anything larger is refused before reaching a handler.
REQUEST_MAX_SIZE = 64 * 1024

_app_numbers = itertools.count(1)


def create_app(services: Iterable[str], settings: Settings) -> Sanic:
    """A sanic app serving `services` ("policy" and/or "claims")."""
    services = frozenset(services)
    unknown = services - set(SERVICES)
    if not services or unknown:
        raise ValueError(f"services must be among {SERVICES}, got {sorted(services)}")

    # A unique name per app: sanic refuses two apps of the same name in a process.
    name = "oyat_" + "_".join(s for s in SERVICES if s in services) + f"_{next(_app_numbers)}"
    app = Sanic(name, error_handler=JsonErrorHandler())
    app.config.REQUEST_MAX_SIZE = REQUEST_MAX_SIZE
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.settings = settings
    app.ctx.services = services

    install_database(app, settings)
    app.register_middleware(require_service_token, "request")
    app.register_middleware(require_identity_assertion, "request")
    app.add_route(health, "/health", methods=["GET"], ctx_public=True)
    app.add_route(openapi, "/v1/openapi.json", methods=["GET"], ctx_public=True)
    if "policy" in services:
        from bot.policy.blueprint import create_blueprint as policy_blueprint

        app.blueprint(policy_blueprint())
    if "claims" in services:
        from bot.claims.blueprint import create_blueprint as claims_blueprint
        from bot.claims.retention import install_unattached_upload_purge

        app.blueprint(claims_blueprint())
        install_unattached_upload_purge(app)
    return app


async def health(request: Any) -> HTTPResponse:
    """Up and able to reach the database."""
    try:
        async with request.app.ctx.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        raise ServiceError("service_unavailable") from None
    return json_response({"status": "ok", "services": sorted(request.app.ctx.services)})


async def openapi(request: Any) -> HTTPResponse:
    return json_response(build_openapi(request.app.ctx.services))
