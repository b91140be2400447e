"""HTTP routes of the claim notices, in the policy service (docs/services-api.md, « Avis de
sinistre »): the customers' consents (caller "services", the address signed by the channel)
and the notifier's routes (caller "notifier", NOTIFIER_TOKEN: `ctx_notifier`)."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Optional

from sanic import Blueprint
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import reply_address
from core.clock import now_utc
from core.db import with_session
from core.service_contract.requests import (
    NoticeConsentInput,
    NoticeConsentWithdrawal,
    NoticeFailure,
    NoticeFallback,
    NoticeLeaseInput,
)
from reference_services.auth import check_identity, queued_claim_grace
from reference_services.claims.models import Claim
from reference_services.errors import ServiceError
from reference_services.notices import service
from reference_services.notices.models import Notice, NoticeConsent
from reference_services.policy.repository import PolicyRepository
from reference_services.responses import json_response
from reference_services.validation import read_body

logger = logging.getLogger(__name__)

CONSENTS = "/v1/customers/<customer_id:str>/notice-consents"
NOTICE = "/v1/notices/<notice_id:int>"


def add_routes(bp: Blueprint) -> None:
    # The identity is checked by the handler: with the queued claims' grace for a consent that
    # comes with a claim queued during an outage (reference_services/auth.py).
    bp.add_route(give_consent, CONSENTS, methods=["POST"], ctx_identifies=True)
    bp.add_route(list_consents, CONSENTS, methods=["GET"])
    bp.add_route(withdraw_consents, "/v1/notice-consents/withdraw", methods=["POST"])
    bp.add_route(lease, "/v1/notices/lease", methods=["POST"], ctx_notifier=True)
    bp.add_route(delivered, f"{NOTICE}/delivered", methods=["POST"], ctx_notifier=True)
    bp.add_route(failed, f"{NOTICE}/failed", methods=["POST"], ctx_notifier=True)
    bp.add_route(fallback, f"{NOTICE}/fallback", methods=["POST"], ctx_notifier=True)


def _reply_address(request: Any, token: Optional[str],
                   grace: Optional[timedelta] = None) -> reply_address.ReplyAddress:
    secret = request.app.ctx.settings.channel_assertion_secret
    try:
        if grace is None:
            return reply_address.verify(secret, token, now_utc())
        return reply_address.verify(secret, token, now_utc(), grace)
    except reply_address.ReplyAddressRefused as refusal:
        raise ServiceError(refusal.code) from None
    except Exception:
        raise ServiceError("reply_address_invalid") from None


# --- consents (caller "services") -------------------------------------------------------

@with_session
async def give_consent(request: Any, session: AsyncSession, customer_id: str) -> HTTPResponse:
    body = read_body(request, NoticeConsentInput)
    grace = queued_claim_grace(request) if body.claim_number else None
    check_identity(request, customer_id, grace or timedelta(0))
    await PolicyRepository(session).get_customer(customer_id)
    claim = None
    if body.claim_number:
        # A consent given with a claim queued during an outage, recorded once it is filed.
        claim = (await session.execute(select(Claim).where(
            Claim.customer_id == customer_id, Claim.claim_number == body.claim_number.upper(),
        ))).scalar_one_or_none()
        if claim is None:
            raise ServiceError("claim_not_found")
    address = _reply_address(request, body.reply_address_assertion, grace)
    if (address.channel, address.conversation_id) != (body.channel, body.conversation_id):
        raise ServiceError("reply_address_invalid")
    now = now_utc()
    consent, created = await service.give_consent(
        session, customer_id, address.channel, address.address, address.conversation_id, now)
    if claim is not None:
        await service.record_claim_event(session, claim, "opened", now)
    await session.commit()
    if created:
        logger.info("notice consent given on %s", address.channel)
    return json_response(service.consent_json(consent), status=201 if created else 200)


@with_session
async def list_consents(request: Any, session: AsyncSession, customer_id: str) -> HTTPResponse:
    await PolicyRepository(session).get_customer(customer_id)
    consents = (await session.execute(
        select(NoticeConsent).where(NoticeConsent.customer_id == customer_id,
                                    NoticeConsent.withdrawn_at.is_(None))
        .order_by(NoticeConsent.given_at, NoticeConsent.id))).scalars().all()
    return json_response({"consents": [service.consent_json(c) for c in consents]})


@with_session
async def withdraw_consents(request: Any, session: AsyncSession) -> HTTPResponse:
    """« STOP »: the customer's consents (with their identity assertion) and/or those of the
    signed address (anyone writing from it, identified or not)."""
    body = read_body(request, NoticeConsentWithdrawal)
    if not body.customer_id and not body.reply_address_assertion:
        raise ServiceError("reply_address_required")
    if body.customer_id:
        check_identity(request, body.customer_id)
    address = None
    if body.reply_address_assertion:
        address = _reply_address(request, body.reply_address_assertion)
    now = now_utc()
    withdrawn = 0
    if body.customer_id:
        withdrawn += await service.withdraw_consents(session, now, customer_id=body.customer_id)
    if address is not None:
        withdrawn += await service.withdraw_consents(session, now, channel=address.channel,
                                                     address=address.address)
    await session.commit()
    logger.info("%d notice consent(s) withdrawn", withdrawn)
    return json_response({"withdrawn": withdrawn})


# --- the notifier (caller "notifier") ---------------------------------------------------

@with_session
async def lease(request: Any, session: AsyncSession) -> HTTPResponse:
    body = read_body(request, NoticeLeaseInput)
    settings = request.app.ctx.settings
    notices = await service.lease_notices(session, now_utc(), body.limit)
    return json_response({"notices": [
        service.notice_json(notice, settings.whatsapp_notice_template,
                            settings.whatsapp_notice_template_language)
        for notice in notices]})


async def _notice(session: AsyncSession, notice_id: int) -> Notice:
    notice = await session.get(Notice, notice_id, populate_existing=True)
    if notice is None:
        raise ServiceError("notice_not_found")
    return notice


def _status(notice: Notice) -> HTTPResponse:
    return json_response({"id": notice.id, "status": notice.status,
                          "delivered_by": notice.delivered_by})


@with_session
async def delivered(request: Any, session: AsyncSession, notice_id: int) -> HTTPResponse:
    notice = await _notice(session, notice_id)
    await service.mark_delivered(session, notice, now_utc())
    logger.info("notice %d delivered on %s", notice.id, notice.channel)
    return _status(notice)


@with_session
async def failed(request: Any, session: AsyncSession, notice_id: int) -> HTTPResponse:
    body = read_body(request, NoticeFailure)
    notice = await _notice(session, notice_id)
    if notice.status == "delivered":
        return _status(notice)  # delivered meanwhile (another lease): stays delivered
    if notice.status != "sending":
        raise ServiceError("notice_not_leased")
    await service.mark_failed(session, notice, now_utc(), bool(body.retry), body.reason or "")
    logger.info("notice %d failed (%s), now %s", notice.id, notice.last_error, notice.status)
    return _status(notice)


@with_session
async def fallback(request: Any, session: AsyncSession, notice_id: int) -> HTTPResponse:
    body = read_body(request, NoticeFallback)
    notice = await _notice(session, notice_id)
    if notice.status == "delivered":
        return _status(notice)  # never twice
    if notice.status not in ("sending", "queued"):
        raise ServiceError("notice_not_leased")
    medium = "sms" if (body.medium or "").lower() == "sms" else "email"
    medium = await service.deliver_by_fallback(session, notice, now_utc(), medium)
    logger.info("notice %d delivered by %s instead of %s", notice.id, medium, notice.channel)
    return _status(notice)
