"""The app factory: one or both services behind one sanic app."""
from __future__ import annotations

import itertools
from typing import Any, Iterable

from sanic import Sanic
from sanic.response import HTTPResponse
from sqlalchemy import text

from core.db import install_database
from core.settings import Settings
from reference_services.auth import require_identity_assertion, require_service_token
from reference_services.errors import JsonErrorHandler, ServiceError
from reference_services.mail import install_email_delivery
from reference_services.openapi import build_openapi
from reference_services.operations import install_operations, install_request_tracing
from reference_services.responses import json_response

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
    # After the database: its listener makes the sessions the delivery configures.
    install_email_delivery(app, settings, deliver="policy" in services)
    install_request_tracing(app)  # X-Request-Id, one log line per request (before the token check)
    app.register_middleware(require_service_token, "request")
    app.register_middleware(require_identity_assertion, "request")
    app.add_route(health, "/health", methods=["GET"], ctx_public=True)
    app.add_route(openapi, "/v1/openapi.json", methods=["GET"], ctx_public=True)
    install_operations(app)  # /metrics and /ready (reference_services/operations.py)
    if "policy" in services:
        from reference_services.policy.blueprint import create_blueprint as policy_blueprint

        app.blueprint(policy_blueprint())
        # C: the alerts' reminders, sent by the policy service's own round (issue 18).
        from reference_services.policy.alerts import install_reminders

        install_reminders(app)
    if "claims" in services:
        from reference_services.claims.blueprint import create_blueprint as claims_blueprint
        from reference_services.claims.retention import install_unattached_upload_purge

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
