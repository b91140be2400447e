"""The console's « Statistiques » and « À revoir » routes on the policy service.

The console calls with ADVISER_CONSOLE_TOKEN and an adviser's session, checked here like
the hand-offs' routes (reference_services/policy/advisers.py): the figures for every
adviser, the messages to review for supervisors only. Neither the console nor this
service reads the conversations: `python -m operations.cli analytics` (make stats), which
holds the conversation store, stores the figures and the masked messages here.
"""
from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any, FrozenSet

from sanic import Blueprint
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import isoformat_paris, now_utc
from core.db import with_session
from core.domain_intents import domain_intents
from core.service_contract.requests import TrainingReviewInput
from reference_services.errors import ServiceError, validation_error
from reference_services.policy.adviser_accounts import current_session
from reference_services.policy.models import Adviser
from reference_services.responses import json_response
from reference_services.training.models import StatisticsSnapshot, TrainingReview
from reference_services.validation import read_body

LIST_LIMIT = 200
logger = logging.getLogger(__name__)


def add_routes(bp: Blueprint) -> None:
    for handler, path, method in (
        (get_statistics, "/v1/statistics", "GET"),
        (list_reviews, "/v1/training-reviews", "GET"),
        (review_message, "/v1/training-reviews/<review_id:str>", "POST"),
    ):
        bp.add_route(handler, path, methods=[method], name=handler.__name__, ctx_console=True)


@lru_cache(maxsize=1)
def known_intents() -> FrozenSet[str]:
    """The domain's intents (domain/*.yml, in the same image as the services)."""
    return frozenset(domain_intents())


def review_json(row: TrainingReview) -> dict:
    return {"id": row.id, "text": row.text, "predicted_intent": row.predicted_intent,
            "confidence": row.confidence, "reason": row.reason, "channel": row.channel,
            "first_seen_on": row.first_seen_on.isoformat(), "last_seen_on": row.last_seen_on.isoformat(),
            "occurrences": row.occurrences, "status": row.status, "chosen_intent": row.chosen_intent,
            "reviewed_by": row.reviewed_by}


def _supervisor(adviser: Adviser) -> None:
    if adviser.role != "supervisor":
        raise ServiceError("supervisor_only")


@with_session
async def get_statistics(request: Any, session: AsyncSession) -> HTTPResponse:
    await current_session(request, session, now_utc())
    latest = (await session.execute(select(StatisticsSnapshot).order_by(StatisticsSnapshot.id.desc())
                                    .limit(1))).scalar_one_or_none()
    if latest is None:
        return json_response({"computed_at": None, "days": [], "top_intents": []})
    return json_response({"computed_at": isoformat_paris(latest.computed_at), **json.loads(latest.figures)})


@with_session
async def list_reviews(request: Any, session: AsyncSession) -> HTTPResponse:
    adviser, _row = await current_session(request, session, now_utc())
    _supervisor(adviser)
    rows = (await session.execute(
        select(TrainingReview).where(TrainingReview.status == "pending")
        .order_by(TrainingReview.occurrences.desc(), TrainingReview.last_seen_on.desc(), TrainingReview.id)
        .limit(LIST_LIMIT))).scalars().all()
    # Customers' words (masked) read by an adviser: who, how many, which ones.
    logger.info("training reviews read by adviser %s: %s", adviser.login, ",".join(str(row.id) for row in rows))
    return json_response({"reviews": [review_json(row) for row in rows]})


@with_session
async def review_message(request: Any, session: AsyncSession, review_id: str) -> HTTPResponse:
    now = now_utc()
    adviser, _row = await current_session(request, session, now)
    _supervisor(adviser)
    row = await session.get(TrainingReview, int(review_id)) if review_id.isdigit() and len(review_id) <= 12 else None
    if row is None:
        raise ServiceError("training_review_not_found")
    body = read_body(request, TrainingReviewInput)
    if body.intent not in known_intents():
        raise validation_error({"intent": "une intention du domaine, ou out_of_scope (hors sujet)"})
    row.status, row.chosen_intent, row.reviewed_by, row.reviewed_at = "reviewed", body.intent, adviser.login, now
    await session.commit()
    return json_response(review_json(row))
