"""HTTP routes of the policy service (docs/services-api.md, "Policy service")."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sanic import Blueprint
from sanic.response import HTTPResponse, raw
from sqlalchemy.ext.asyncio import AsyncSession

from core import channel_assertion, identity_assertion
from core.clock import PARIS, days_after, isoformat_paris, now_utc, today
from core.db import with_session
from core.masking import mask_email
from core.metrics import HANDOFFS, bounded, channel_label
from core.service_contract import (
    AttestationRequest,
    CodeInput,
    CustomerRequestInput,
    HandoffInput,
    IdentityCheckInput,
    PhoneIdentityCheckInput,
    SessionTokenInput,
)
from reference_services.auth import check_identity, queued_claim_grace
from reference_services.documents.links import LinkCheck, check_link
from reference_services.errors import ServiceError
from reference_services.policy import advisers, alerts, notifications, quotes
from reference_services.policy.attestations import attestation_json, issue_attestation
from reference_services.policy.identification import Asker, Identification
from reference_services.policy.models import CustomerRequest, Handoff, HandoffEvent
from reference_services.policy.repository import PolicyRepository
from reference_services.policy.request_kinds import REQUEST_DELAY_DAYS
from reference_services.policy.serializers import contract_json, customer_json
from reference_services.policy.session_tokens import customer_id_from_session_token
from reference_services.references import commit_with_retries, next_yearly_reference
from reference_services.responses import json_response
from reference_services.validation import read_body

logger = logging.getLogger(__name__)

CUSTOMER = "/v1/customers/<customer_id:str>"


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
    # The customer identifies here: no identity assertion yet.
    bp.add_route(start_identity_check, f"{CUSTOMER}/identity-checks", methods=["POST"],
                 ctx_identifies=True)
    bp.add_route(start_phone_identity_check, "/v1/phone-identity-checks", methods=["POST"])
    bp.add_route(
        verify_identity_check, "/v1/identity-checks/<check_id:str>/verify", methods=["POST"]
    )
    bp.add_route(check_session_token, "/v1/espace-client-token-checks", methods=["POST"])
    advisers.add_routes(bp)
    quotes.add_routes(bp)
    alerts.add_routes(bp)  # C: alerts the customers set (issue 18)
    from reference_services.notices import blueprint as notices

    notices.add_routes(bp)  # D: claim notices' consents and the notifier's routes (issue 15)
    from reference_services.training import routes as training

    training.add_routes(bp)  # I: the console's figures and review of misunderstood messages (issue 16)
    return bp


def _settings(request: Any):
    return request.app.ctx.settings


def _asker(body: Any) -> Asker:
    """Who answers an identification question: wrong answers are counted per
    conversation and per source (the client's address or platform user), never per
    customer (docs/identification.md)."""
    return Asker(body.conversation_id, body.source)


def _identified(request: Any, customer_id: str, verified_by: str, channel: str,
                conversation_id: str) -> dict:
    """The answer of a successful identification: the customer id and the assertion
    the services require on every call about that customer."""
    settings = _settings(request)
    assertion, expires_at = identity_assertion.issue(
        settings.identity_assertion_secret, customer_id, verified_by, channel, conversation_id,
        now_utc(), timedelta(seconds=settings.identity_assertion_ttl_seconds),
    )
    return {"customer_id": customer_id, "verified": True, "identity_assertion": assertion,
            "identity_expires_at": isoformat_paris(expires_at)}


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
    body = read_body(request, AttestationRequest)
    repository = PolicyRepository(session)
    customer = await repository.get_customer(customer_id)
    contract = await repository.get_contract(customer_id, contract_number)
    issued = await issue_attestation(
        session, _settings(request), customer, contract, body.kind, body.send_by_email, now_utc()
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
    body = read_body(request, CustomerRequestInput)
    kind, details, contract_number = body.kind, body.details, body.contract_number
    repository = PolicyRepository(session)
    await repository.get_customer(customer_id)
    if contract_number:
        contract_number = (await repository.get_contract(customer_id, contract_number)
                           ).contract_number
    now = now_utc()
    delay_days = REQUEST_DELAY_DAYS[kind]
    expected_by = days_after(today(), delay_days)

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
    body = read_body(request, HandoffInput)
    customer_id, channel, reason, summary = body.customer_id, body.channel, body.reason, body.summary
    if customer_id:
        # Naming a customer takes that customer's assertion; expired within the grace of
        # queued claims too: the claim outbox hands over a queued claim the claims service
        # refused, days after the conversation maybe.
        check_identity(request, customer_id, queued_claim_grace(request))
        await PolicyRepository(session).get_customer(customer_id)
    now = now_utc()

    async def attempt() -> Handoff:
        handoff = Handoff(
            reference=await next_yearly_reference(
                session, Handoff.reference, "TRF", now.astimezone(PARIS).year
            ),
            customer_id=customer_id, channel=channel, reason=reason, summary=summary,
            status="waiting", created_at=now, conversation_id=body.conversation_id,
            contact=body.contact,
        )
        session.add(handoff)
        await session.flush()
        session.add(HandoffEvent(handoff_id=handoff.id, kind="filed", created_at=now))
        notifications.queue_handoff_notice(session, handoff, _settings(request), now)
        return handoff

    saved = await commit_with_retries(session, attempt)
    logger.info("hand-off %s filed from %s", saved.reference, channel)
    HANDOFFS.labels(channel_label(channel), bounded(reason)).inc()  # core/metrics.py
    return json_response({
        "reference": saved.reference,
        "status": saved.status,
        "created_at": isoformat_paris(saved.created_at),
    }, status=201)


@with_session
async def start_identity_check(
    request: Any, session: AsyncSession, customer_id: str
) -> HTTPResponse:
    path_errors = {}
    if not (len(customer_id) == 8 and customer_id.isascii() and customer_id.isdigit()):
        path_errors["customer_id"] = "8 chiffres attendus"
    body = read_body(request, IdentityCheckInput, path_errors)
    # The same answer whether the customer exists and the birth date is right or not.
    started = await Identification(session, _settings(request).document_link_secret).start(
        customer_id, body.birth_date, _asker(body), now_utc()
    )
    return json_response({
        "check_id": started.check_id,
        "expires_at": isoformat_paris(started.expires_at),
    }, status=201)


@with_session
async def start_phone_identity_check(request: Any, session: AsyncSession) -> HTTPResponse:
    body = read_body(request, PhoneIdentityCheckInput)
    phone_number, send_code = body.phone_number, body.send_code
    # Without a code the customer is identified at once: for that conversation.
    conversation_id, channel = body.conversation_id, body.channel
    if not send_code:
        # The number alone identifies only when the channel that verified it says so: a
        # refusal here is no customer's wrong answer, so nothing is counted.
        try:
            channel_assertion.verify(
                body.channel_assertion, _settings(request).channel_assertion_secret, phone=phone_number,
                channel=channel, conversation_id=conversation_id, now=now_utc())
        except channel_assertion.ChannelAssertionRefused as refused:
            raise ServiceError(refused.code) from None
    outcome = await Identification(session, _settings(request).document_link_secret
                                   ).start_from_phone(phone_number, body.birth_date, send_code, _asker(body),
                                                      now_utc())
    if isinstance(outcome, str):  # identified without a code (telephone line)
        return json_response(_identified(request, outcome, "caller_number", channel, conversation_id))
    return json_response({
        "check_id": outcome.check_id,
        "sent_to": outcome.sent_to,
        "expires_at": isoformat_paris(outcome.expires_at),
    }, status=201)


@with_session
async def verify_identity_check(
    request: Any, session: AsyncSession, check_id: str
) -> HTTPResponse:
    body = read_body(request, CodeInput)
    customer_id = await Identification(
        session, _settings(request).document_link_secret
    ).verify(check_id, body.code, _asker(body), now_utc())
    return json_response(_identified(request, customer_id, "sms_code", body.channel,
                                     body.conversation_id))


@with_session
async def check_session_token(request: Any, session: AsyncSession) -> HTTPResponse:
    """An espace-client session token, verified here: the identity assertion of its
    customer. A valid token of a customer unknown here is 404 customer_not_found."""
    body = read_body(request, SessionTokenInput)
    customer_id = customer_id_from_session_token(body.token, _settings(request).espace_client_jwt_secret)
    if customer_id is None:
        raise ServiceError("session_token_invalid")
    await PolicyRepository(session).get_customer(customer_id)
    return json_response(_identified(request, customer_id, "espace_client_token", body.channel,
                                     body.conversation_id))
