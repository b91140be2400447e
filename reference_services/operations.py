"""The services' metrics, request ids and readiness (reference_services/app.py installs them).

- Each request is handled under its `X-Request-Id` (the action server's turn, else a new
  id) and logged in one line (method, path with its numbers masked, status, duration).
- `/metrics` (open, like `/health`: nothing personal) and `/ready`: ready when the database
  answers and its schema is migrated (`alembic_version` readable). `oyat_outbox_backlog`
  is counted at each scrape of the policy service: e-mails and SMS queued or being sent.
- `oyat_claims_filed_total`, `oyat_attestations_issued_total`, `oyat_handoffs_total`
  move where the services store them (claims/filing.py, policy/attestations.py,
  policy/blueprint.py).
"""
from typing import Any, Dict

from sqlalchemy import func, select, text

from core.metrics import OUTBOX_BACKLOG
from core.observability import check, install_operations_routes, install_request_ids

REQUESTS_LOGGER = "reference_services.requests"


async def service_checks(app: Any) -> Dict[str, str]:
    async def query() -> None:
        async with app.ctx.sessionmaker() as session:
            await session.execute(text("SELECT version_num FROM alembic_version"))

    if getattr(app.ctx, "sessionmaker", None) is None:
        return {"database": "not_open"}
    return {"database": await check(query)}


async def count_outbox_backlog(app: Any) -> None:
    if "policy" not in app.ctx.services or getattr(app.ctx, "sessionmaker", None) is None:
        return
    from reference_services.policy.models import OutboxMessage

    try:
        async with app.ctx.sessionmaker() as session:
            waiting = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(("queued", "sending"))))
    except Exception:  # the database is down: /ready says so, the scrape still answers
        return
    OUTBOX_BACKLOG.labels("messages").set(waiting or 0)


def install_request_tracing(app: Any) -> None:
    """Before the services' token check: a refused call is logged under its id too."""
    install_request_ids(app, REQUESTS_LOGGER)


def install_operations(app: Any) -> None:
    install_operations_routes(app, service_checks, before_scrape=count_outbox_backlog, ctx_public=True)
