"""HTTP routes of the policy service (docs/services-api.md, "Policy service")."""
from __future__ import annotations

import logging
from typing import Any

from sanic import Blueprint
from sanic.response import HTTPResponse, raw
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import PARIS, days_after, isoformat_paris, now_utc, today_paris
from bot.db import with_session
from bot.documents.links import LinkCheck, check_link
from bot.errors import ServiceError, validation_error
from bot.masking import mask_email
from bot.policy import notifications
from bot.policy.attestations import KINDS, attestation_json, issue_attestation
from bot.policy.identification import Identification
from bot.policy.models import CustomerRequest, Handoff
from bot.policy.repository import PolicyRepository
from bot.policy.request_kinds import REQUEST_DELAY_DAYS
from bot.policy.serializers import contract_json, customer_json, outbox_json
from bot.references import commit_with_retries, next_yearly_reference
from bot.responses import json_response
from bot.validation import BodyChecker, read_json_object

logger = logging.getLogger(__name__)

CUSTOMER = "/v1/customers/<customer_id:str>"
OUTBOX_DEFAULT_MESSAGES = 500
OUTBOX_MAX_MESSAGES = 1000


def create_blueprint() -> Blueprint:
    """A fresh blueprint (one per app, so that several apps can coexist)."""
    bp = Blueprint("policy")
    bp.add_route(get_customer, CUSTOMER, methods=["GET"])
    bp.add_route(list_contracts, f"{CUSTOMER}/contracts", methods=["GET"])
    bp.add_route(get_contract, f"{CUSTOMER}/contracts/<contract_number:str>", methods=["GET"])
    bp.add_route(
        create_attestation, f"{CUSTOMER}/contracts/<contract_number:str>/attestations",
        methods=["POST"],
    )
    bp.add_route(
        download_document, r"/v1/documents/<filename:[0-9a-f]{32}\.pdf>", methods=["GET"],
        ctx_public=True,  # the signature in the URL is the credential
    )
    bp.add_route(send_password_reset, f"{CUSTOMER}/password-reset", methods=["POST"])
    bp.add_route(send_identifier_reminder, f"{CUSTOMER}/identifier-reminder", methods=["POST"])
    bp.add_route(create_request, f"{CUSTOMER}/requests", methods=["POST"])
    bp.add_route(create_handoff, "/v1/handoffs", methods=["POST"])
    bp.add_route(start_identity_check, f"{CUSTOMER}/identity-checks", methods=["POST"])
    bp.add_route(start_phone_identity_check, "/v1/phone-identity-checks", methods=["POST"])
    bp.add_route(
        verify_identity_check, "/v1/identity-checks/<check_id:str>/verify", methods=["POST"]
    )
    bp.add_route(list_outbox, "/v1/outbox", methods=["GET"])
    return bp


def _settings(request: Any):
    return request.app.ctx.settings


@with_session
async def get_customer(request: Any, session: AsyncSession, customer_id: str) -> HTTPResponse:
    customer = await PolicyRepository(session).get_customer(customer_id)
    return json_response(customer_json(customer))


@with_session
async def list_contracts(request: Any, session: AsyncSession, customer_id: str) -> HTTPResponse:
    repository = PolicyRepository(session)
    await repository.get_customer(customer_id)
    contracts = await repository.list_contracts(customer_id)
    return json_response({"contracts": [contract_json(contract) for contract in contracts]})


@with_session
async def get_contract(
    request: Any, session: AsyncSession, customer_id: str, contract_number: str
) -> HTTPResponse:
    repository = PolicyRepository(session)
    await repository.get_customer(customer_id)
    contract = await repository.get_contract(customer_id, contract_number)
    return json_response(contract_json(contract))


@with_session
async def create_attestation(
    request: Any, session: AsyncSession, customer_id: str, contract_number: str
) -> HTTPResponse:
    body = read_json_object(request)
    checker = BodyChecker(body, {"kind", "send_by_email"})
    kind = checker.choice("kind", KINDS, required=False, default="standard")
    send_by_email = checker.boolean("send_by_email")
    checker.raise_if_invalid()
    repository = PolicyRepository(session)
    customer = await repository.get_customer(customer_id)
    contract = await repository.get_contract(customer_id, contract_number)
    issued = await issue_attestation(
        session, _settings(request), customer, contract, kind, send_by_email, now_utc()
    )
    logger.info("attestation %s issued for contract %s", issued.document.reference,
                contract.contract_number)
    return json_response(attestation_json(issued), status=201)


@with_session
async def download_document(request: Any, session: AsyncSession, filename: str) -> HTTPResponse:
    document_id = filename[: -len(".pdf")]
    verdict = check_link(
        document_id, request.args.get("expires"), request.args.get("signature"),
        _settings(request).document_link_secret, int(now_utc().timestamp()),
    )
    if verdict is LinkCheck.INVALID:
        raise ServiceError("invalid_link")
    if verdict is LinkCheck.EXPIRED:
        raise ServiceError("link_expired")
    document = await PolicyRepository(session).get_document(document_id)
    return raw(
        document.content,
        content_type=document.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{document.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@with_session
async def send_password_reset(
    request: Any, session: AsyncSession, customer_id: str
) -> HTTPResponse:
    customer = await PolicyRepository(session).get_customer(customer_id)
    notifications.queue_password_reset(session, customer, now_utc())
    await session.commit()
    return json_response({"sent_to": mask_email(customer.email)}, status=202)


@with_session
async def send_identifier_reminder(
    request: Any, session: AsyncSession, customer_id: str
) -> HTTPResponse:
    customer = await PolicyRepository(session).get_customer(customer_id)
    notifications.queue_identifier_reminder(session, customer, now_utc())
    await session.commit()
    return json_response({"sent_to": mask_email(customer.email)}, status=202)


@with_session
async def create_request(request: Any, session: AsyncSession, customer_id: str) -> HTTPResponse:
    checker = BodyChecker(read_json_object(request), {"kind", "details", "contract_number"})
    kind = checker.choice("kind", REQUEST_DELAY_DAYS)
    details = checker.json_object("details")
    contract_number = checker.text("contract_number", required=False, max_length=10)
    checker.raise_if_invalid()
    repository = PolicyRepository(session)
    await repository.get_customer(customer_id)
    if contract_number:
        contract_number = (await repository.get_contract(customer_id, contract_number)
                           ).contract_number
    now = now_utc()
    delay_days = REQUEST_DELAY_DAYS[kind]
    expected_by = days_after(today_paris(), delay_days)

    async def attempt() -> CustomerRequest:
        customer_request = CustomerRequest(
            reference=await next_yearly_reference(
                session, CustomerRequest.reference, "DEM", now.astimezone(PARIS).year
            ),
            customer_id=customer_id, contract_number=contract_number, kind=kind,
            details=details, status="received", expected_by=expected_by, created_at=now,
        )
        session.add(customer_request)
        await session.flush()
        return customer_request

    saved = await commit_with_retries(session, attempt)
    logger.info("request %s (%s) filed", saved.reference, kind)
    return json_response({
        "reference": saved.reference,
        "kind": saved.kind,
        "contract_number": saved.contract_number,
        "status": saved.status,
        "expected_by": saved.expected_by.isoformat(),
        "delay_days": delay_days,
        "created_at": isoformat_paris(saved.created_at),
    }, status=201)


@with_session
async def create_handoff(request: Any, session: AsyncSession) -> HTTPResponse:
    checker = BodyChecker(read_json_object(request),
                          {"customer_id", "channel", "reason", "summary"})
    customer_id = checker.text("customer_id", required=False, max_length=8)
    channel = checker.text("channel", max_length=40)
    reason = checker.text("reason", max_length=200)
    summary = checker.text("summary", max_length=4000)
    checker.raise_if_invalid()
    if customer_id:
        await PolicyRepository(session).get_customer(customer_id)
    now = now_utc()

    async def attempt() -> Handoff:
        handoff = Handoff(
            reference=await next_yearly_reference(
                session, Handoff.reference, "TRF", now.astimezone(PARIS).year
            ),
            customer_id=customer_id, channel=channel, reason=reason, summary=summary,
            status="waiting", created_at=now,
        )
        session.add(handoff)
        await session.flush()
        return handoff

    saved = await commit_with_retries(session, attempt)
    logger.info("hand-off %s filed from %s", saved.reference, channel)
    return json_response({
        "reference": saved.reference,
        "status": saved.status,
        "created_at": isoformat_paris(saved.created_at),
    }, status=201)


@with_session
async def start_identity_check(
    request: Any, session: AsyncSession, customer_id: str
) -> HTTPResponse:
    checker = BodyChecker(read_json_object(request), {"birth_date"})
    birth_date = checker.date("birth_date")
    checker.raise_if_invalid()
    customer = await PolicyRepository(session).get_customer(customer_id)
    started = await Identification(session, _settings(request).document_link_secret).start(
        customer, birth_date, now_utc()
    )
    return json_response({
        "check_id": started.check_id,
        "sent_to": started.sent_to,
        "expires_at": isoformat_paris(started.expires_at),
    }, status=201)


@with_session
async def start_phone_identity_check(request: Any, session: AsyncSession) -> HTTPResponse:
    checker = BodyChecker(read_json_object(request), {"phone_number", "birth_date", "send_code"})
    phone_number = checker.phone_number("phone_number")
    birth_date = checker.date("birth_date")
    send_code = checker.boolean("send_code", default=True)
    checker.raise_if_invalid()
    outcome = await Identification(session, _settings(request).document_link_secret
                                   ).start_from_phone(phone_number, birth_date, send_code, now_utc())
    if isinstance(outcome, str):  # identified without a code (telephone line)
        return json_response({"customer_id": outcome, "verified": True})
    return json_response({
        "check_id": outcome.check_id,
        "sent_to": outcome.sent_to,
        "expires_at": isoformat_paris(outcome.expires_at),
    }, status=201)


@with_session
async def verify_identity_check(
    request: Any, session: AsyncSession, check_id: str
) -> HTTPResponse:
    checker = BodyChecker(read_json_object(request), {"code"})
    code = checker.text("code", max_length=20)
    if code is not None:
        code = code.replace(" ", "")
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            checker.fail("code", "six chiffres attendus")
    checker.raise_if_invalid()
    customer_id = await Identification(
        session, _settings(request).document_link_secret
    ).verify(check_id, code, now_utc())
    return json_response({"customer_id": customer_id, "verified": True})


@with_session
async def list_outbox(request: Any, session: AsyncSession) -> HTTPResponse:
    recipient = request.args.get("recipient")
    limit_text = request.args.get("limit", str(OUTBOX_DEFAULT_MESSAGES))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= OUTBOX_MAX_MESSAGES:
        raise validation_error({"limit": f"nombre entre 1 et {OUTBOX_MAX_MESSAGES} attendu"})
    messages = await PolicyRepository(session).list_outbox(recipient, int(limit_text))
    return json_response({"messages": [outbox_json(message) for message in messages]})
