"""The action server's metrics, request ids and readiness (actions/server.py installs them).

- Each call of the Rasa server is handled under its `X-Request-Id` (core/observability.py),
  which the services client sends on (core/service_client.py); one log line per action
  run: its name, status and duration, and `oyat_action_seconds{action}` (core/metrics.py).
- `/metrics` and `/ready` (open, like `/health`): ready when the claim outbox's database
  answers (CLAIM_OUTBOX_URL: a claim filed during a services' outage is kept there). The
  services being down does not make the action server unready: it still answers, telling
  the customer nothing is lost. Each scrape counts the claims waiting in that outbox
  (`oyat_outbox_backlog{outbox="claims"}`).
"""
import logging
import time
from typing import Any, Dict

from core.metrics import ACTION_SECONDS, OUTBOX_BACKLOG, bounded
from core.observability import check, install_operations_routes, install_request_ids

logger = logging.getLogger("actions.requests")

WEBHOOK_PATH = "/webhook"


async def action_server_checks(_app: Any) -> Dict[str, str]:
    from sqlalchemy import text

    from actions.claim_outbox import claim_outbox

    async def query() -> None:
        engine = await claim_outbox()._ready()
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return {"claim_outbox_database": await check(query)}


async def count_queued_claims(_app: Any) -> None:
    """oyat_outbox_backlog{outbox="claims"}: claims confirmed during a services' outage, not filed yet."""
    from sqlalchemy import func, select

    from actions.claim_outbox import PENDING, claim_outbox, pending_claims

    try:
        engine = await claim_outbox()._ready()
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                select(func.count()).select_from(pending_claims).where(pending_claims.c.status == PENDING))
    except Exception:  # its database is down: /ready says so, the scrape still answers
        return
    OUTBOX_BACKLOG.labels("claims").set(waiting or 0)


def install_operations(app: Any) -> None:
    """Request ids, action timings, `/metrics` and `/ready` on the action server's app
    (before its other middleware: a refused call is logged under its id too)."""
    install_request_ids(app, "actions.requests", log_requests=False)

    async def start_timing(request: Any) -> None:
        request.ctx.oyat_action_started = time.perf_counter()

    async def time_action(request: Any, response: Any) -> None:
        started = getattr(request.ctx, "oyat_action_started", None)
        if request.path != WEBHOOK_PATH or started is None or response is None:
            return
        from actions.server import action_call

        seconds = time.perf_counter() - started
        action = bounded(action_call(request).get("next_action"))
        if response.status != 401:
            ACTION_SECONDS.labels(action).observe(seconds)
        logger.info("action %s answered %s in %.3f s", action, response.status, seconds)

    app.register_middleware(start_timing, "request")
    app.register_middleware(time_action, "response")
    install_operations_routes(app, action_server_checks, before_scrape=count_queued_claims)
