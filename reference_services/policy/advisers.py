"""The advisers' console's routes on the policy service (docs/services-api.md, "Advisers"),
and how many advisers are at their console, for the action server.

The console calls with ADVISER_CONSOLE_TOKEN (reference_services/auth.py) and, but to log
in, an adviser's session. An adviser sees the waiting hand-offs and those they took, a
supervisor every one; every opening of a hand-off (the customer's data) and every change
is recorded in handoff_events. The conversation itself is on the Rasa servers: the
hand-off's answer carries a grant signed for it (core/adviser_grant.py), "write" for the
adviser who took it, "read" otherwise.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Optional

from sanic import Blueprint
from sanic.response import HTTPResponse, empty
from sqlalchemy import distinct, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import adviser_grant
from core.clock import isoformat_paris, now_utc
from core.db import with_session
from core.service_contract import AdviserLoginInput, AdviserMessageInput
from reference_services.claims.repository import ClaimsRepository
from reference_services.claims.serializers import claim_json
from reference_services.errors import ServiceError, validation_error
from reference_services.policy.adviser_accounts import adviser_json, current_session, log_in, log_out
from reference_services.policy.models import Adviser, AdviserSession, Customer, Handoff, HandoffEvent
from reference_services.policy.repository import PolicyRepository
from reference_services.policy.serializers import contract_json
from reference_services.responses import json_response
from reference_services.validation import read_body

# The console polls every few seconds: a session used this recently is an adviser at work.
AVAILABLE_WITHIN = timedelta(minutes=2)
LIST_LIMIT = 200
STATUSES = ("waiting", "taken", "closed")
REFERENCE = re.compile(r"TRF-[0-9]{4}-[0-9]{6}")  # ASCII digits only
HANDOFF = "/v1/handoffs/<reference:str>"


def add_routes(bp: Blueprint) -> None:
    bp.add_route(advisers_available, "/v1/advisers/available", methods=["GET"])
    # The console's routes: its token, not the services' (ctx_console).
    for handler, path, method in (
        (open_session, "/v1/adviser-sessions", "POST"),
        (get_session, "/v1/adviser-sessions/current", "GET"),
        (close_session, "/v1/adviser-sessions/current", "DELETE"),
        (list_handoffs, "/v1/handoffs", "GET"),
        (get_handoff, HANDOFF, "GET"),
        (take_handoff, f"{HANDOFF}/take", "POST"),
        (record_message, f"{HANDOFF}/messages", "POST"),
        (close_handoff, f"{HANDOFF}/close", "POST"),
    ):
        bp.add_route(handler, path, methods=[method], name=f"{handler.__name__}", ctx_console=True)


@with_session
async def advisers_available(request: Any, session: AsyncSession) -> HTTPResponse:
    now = now_utc()
    available = (await session.execute(
        select(func.count(distinct(AdviserSession.adviser_id))).where(
            AdviserSession.last_seen_at >= now - AVAILABLE_WITHIN, AdviserSession.expires_at > now)
    )).scalar_one()
    return json_response({"available": available})


# --- sessions


@with_session
async def open_session(request: Any, session: AsyncSession) -> HTTPResponse:
    body = read_body(request, AdviserLoginInput)
    adviser, token, expires_at = await log_in(session, body.login, body.password, now_utc())
    return json_response({"session": token, "expires_at": isoformat_paris(expires_at),
                          "adviser": adviser_json(adviser)}, status=201,
                         headers={"Cache-Control": "no-store"})


@with_session
async def get_session(request: Any, session: AsyncSession) -> HTTPResponse:
    adviser, row = await current_session(request, session, now_utc())
    return json_response({"adviser": adviser_json(adviser), "expires_at": isoformat_paris(row.expires_at)})


@with_session
async def close_session(request: Any, session: AsyncSession) -> HTTPResponse:
    _adviser, row = await current_session(request, session, now_utc())
    await log_out(session, row)
    return empty()


# --- hand-offs


def _with_names():
    """Hand-offs with their customer and the adviser who took them, if any."""
    return (select(Handoff, Customer, Adviser)
            .outerjoin(Customer, Customer.customer_id == Handoff.customer_id)
            .outerjoin(Adviser, Adviser.id == Handoff.taken_by))


@with_session
async def list_handoffs(request: Any, session: AsyncSession) -> HTTPResponse:
    now = now_utc()
    adviser, _row = await current_session(request, session, now)
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise validation_error({"status": "valeur attendue parmi : " + ", ".join(STATUSES)})
    query = _with_names()
    if status:
        query = query.where(Handoff.status == status)
    if adviser.role != "supervisor":
        query = query.where(or_(Handoff.status == "waiting", Handoff.taken_by == adviser.id))
    rows = (await session.execute(
        query.order_by(Handoff.created_at.desc(), Handoff.id.desc()).limit(LIST_LIMIT))).all()
    return json_response({"handoffs": [_summary(*row, now) for row in rows]})


async def _load(session: AsyncSession, reference: str) -> tuple[Handoff, Optional[Customer], Optional[Adviser]]:
    if not REFERENCE.fullmatch(reference):
        raise ServiceError("handoff_not_found")
    row = (await session.execute(_with_names().where(Handoff.reference == reference)
                                 .execution_options(populate_existing=True))).first()
    if row is None:
        raise ServiceError("handoff_not_found")
    return tuple(row)


def _check_visible(adviser: Adviser, handoff: Handoff) -> None:
    """An adviser does not open a hand-off another adviser took; a supervisor does."""
    if adviser.role != "supervisor" and handoff.taken_by not in (None, adviser.id):
        raise ServiceError("handoff_not_yours")


def _record(session: AsyncSession, handoff: Handoff, kind: str, adviser: Adviser, now: datetime,
            text: Optional[str] = None) -> None:
    session.add(HandoffEvent(handoff_id=handoff.id, kind=kind, adviser_id=adviser.id, text=text,
                             created_at=now))


async def _answer_detail(request: Any, session: AsyncSession, reference: str, adviser: Adviser, kind: str,
                         now: datetime) -> HTTPResponse:
    """The hand-off as it is now, its reading recorded as `kind` ("opened", or the change
    just made) in the same transaction."""
    handoff, customer, taker = await _load(session, reference)
    _record(session, handoff, kind, adviser, now)
    detail = await _detail(request, session, handoff, customer, taker, adviser, now)
    await session.commit()
    return json_response(detail, headers={"Cache-Control": "no-store"})


@with_session
async def get_handoff(request: Any, session: AsyncSession, reference: str) -> HTTPResponse:
    now = now_utc()
    adviser, _row = await current_session(request, session, now)
    handoff, _customer, _taker = await _load(session, reference)
    _check_visible(adviser, handoff)
    return await _answer_detail(request, session, reference, adviser, "opened", now)


@with_session
async def take_handoff(request: Any, session: AsyncSession, reference: str) -> HTTPResponse:
    now = now_utc()
    adviser, _row = await current_session(request, session, now)
    handoff, _customer, _taker = await _load(session, reference)
    if handoff.status == "taken" and handoff.taken_by == adviser.id:
        return await _answer_detail(request, session, reference, adviser, "opened", now)
    # Conditional: of two advisers taking it at once, one only gets it.
    taken = await session.execute(
        update(Handoff).where(Handoff.id == handoff.id, Handoff.status == "waiting")
        .values(status="taken", taken_by=adviser.id, taken_at=now)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        await session.rollback()
        raise ServiceError("handoff_taken")
    return await _answer_detail(request, session, reference, adviser, "taken", now)


@with_session
async def record_message(request: Any, session: AsyncSession, reference: str) -> HTTPResponse:
    now = now_utc()
    adviser, _row = await current_session(request, session, now)
    handoff, _customer, _taker = await _load(session, reference)
    _check_visible(adviser, handoff)
    body = read_body(request, AdviserMessageInput)
    if handoff.status != "taken" or handoff.taken_by != adviser.id:
        raise ServiceError("handoff_not_taken")
    _record(session, handoff, "message", adviser, now, body.text)
    await session.commit()
    return json_response({"created_at": isoformat_paris(now)}, status=201)


@with_session
async def close_handoff(request: Any, session: AsyncSession, reference: str) -> HTTPResponse:
    now = now_utc()
    adviser, _row = await current_session(request, session, now)
    handoff, _customer, _taker = await _load(session, reference)
    _check_visible(adviser, handoff)
    if handoff.status == "closed":
        return await _answer_detail(request, session, reference, adviser, "opened", now)
    if adviser.role != "supervisor" and handoff.taken_by != adviser.id:
        raise ServiceError("handoff_not_taken")  # an adviser takes it before closing it
    closed = await session.execute(
        update(Handoff).where(Handoff.id == handoff.id, Handoff.status != "closed")
        .values(status="closed", closed_at=now).execution_options(synchronize_session=False))
    kind = "closed" if closed.rowcount == 1 else "opened"  # closed meanwhile by someone else
    return await _answer_detail(request, session, reference, adviser, kind, now)


# --- answers


def _summary(handoff: Handoff, customer: Optional[Customer], taker: Optional[Adviser], now: datetime) -> dict:
    waited_until = handoff.taken_at or handoff.closed_at or now
    return {
        "reference": handoff.reference,
        "status": handoff.status,
        "channel": handoff.channel,
        "customer": customer and {"customer_id": customer.customer_id, "full_name": customer.full_name},
        "contact": handoff.contact,
        "reason": handoff.reason,
        "summary": handoff.summary,
        "created_at": isoformat_paris(handoff.created_at),
        "waiting_seconds": max(0, int((waited_until - handoff.created_at).total_seconds())),
        "taken_by": taker and {"login": taker.login, "display_name": taker.display_name},
    }


async def _detail(request: Any, session: AsyncSession, handoff: Handoff, customer: Optional[Customer],
                  taker: Optional[Adviser], adviser: Adviser, now: datetime) -> dict:
    events = (await session.execute(
        select(HandoffEvent, Adviser.login).outerjoin(Adviser, Adviser.id == HandoffEvent.adviser_id)
        .where(HandoffEvent.handoff_id == handoff.id, HandoffEvent.kind != "opened")
        .order_by(HandoffEvent.id))).all()
    customer_file = None
    if customer is not None:
        contracts = await PolicyRepository(session).list_contracts(customer.customer_id)
        claims = await ClaimsRepository(session).list_claims(customer.customer_id)
        customer_file = {"contracts": [contract_json(contract) for contract in contracts],
                         "claims": [claim_json(claim) for claim in claims]}
    return {
        **_summary(handoff, customer, taker, now),
        "conversation_id": handoff.conversation_id,
        "events": [{"kind": event.kind, "adviser": login, "text": event.text,
                    "created_at": isoformat_paris(event.created_at)} for event, login in events],
        "customer_file": customer_file,
        "grant": _grant(request.app.ctx.settings.adviser_grant_secret, handoff, adviser, now),
    }


def _grant(secret: str, handoff: Handoff, adviser: Adviser, now: datetime) -> Optional[dict]:
    """The adviser's access to the conversation on the Rasa servers: "write" for the adviser
    who took it, while taken, and for a supervisor, who may close a hand-off an adviser left
    (giving the conversation back to the assistant); "read" otherwise. Only the taker's
    messages are recorded (send_message), so the console writes only theirs."""
    if not handoff.conversation_id or not secret:
        return None
    writes = handoff.taken_by == adviser.id or adviser.role == "supervisor"
    scope = "write" if handoff.status == "taken" and writes else "read"
    token, expires_at = adviser_grant.issue(
        secret, adviser_login=adviser.login, adviser_name=adviser.display_name, reference=handoff.reference,
        conversation_id=handoff.conversation_id, channel=handoff.channel, scope=scope, now=now)
    return {"token": token, "scope": scope, "expires_at": isoformat_paris(expires_at)}
