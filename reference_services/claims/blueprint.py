"""HTTP routes of the claims service (docs/services-api.md, "Claims service")."""
from __future__ import annotations

import logging
from typing import Any

from sanic import Blueprint
from sanic.response import HTTPResponse
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now_utc, today
from core.db import with_session
from core.service_contract import ClaimDocumentInput
from reference_services.claims.filing import check_declarable, file_claim, parse_declaration
from reference_services.claims.repository import ClaimsRepository
from reference_services.claims.serializers import claim_json, document_json
from reference_services.claims.uploads import check_upload, read_capped_body, store_upload
from reference_services.policy.repository import PolicyRepository
from reference_services.responses import json_response
from reference_services.validation import read_body, read_json_object

logger = logging.getLogger(__name__)

CLAIMS = "/v1/customers/<customer_id:str>/claims"


def create_blueprint() -> Blueprint:
    """A fresh blueprint (one per app, so that several apps can coexist)."""
    bp = Blueprint("claims")
    bp.add_route(list_claims, CLAIMS, methods=["GET"])
    # A queued claim is filed with the assertion of the conversation, maybe expired (reference_services/auth.py).
    bp.add_route(create_claim, CLAIMS, methods=["POST"], ctx_filing_grace=True)
    bp.add_route(get_claim, f"{CLAIMS}/<claim_number:str>", methods=["GET"])
    bp.add_route(add_document, f"{CLAIMS}/<claim_number:str>/documents", methods=["POST"])
    # Streamed: the file may exceed the 64 KB limit of JSON bodies; its own cap applies.
    bp.add_route(upload_file, "/v1/uploads", methods=["POST"], stream=True)
    return bp


@with_session
async def list_claims(request: Any, session: AsyncSession, customer_id: str) -> HTTPResponse:
    await PolicyRepository(session).get_customer(customer_id)
    claims = await ClaimsRepository(session).list_claims(customer_id)
    return json_response({"claims": [claim_json(claim) for claim in claims]})


@with_session
async def get_claim(
    request: Any, session: AsyncSession, customer_id: str, claim_number: str
) -> HTTPResponse:
    await PolicyRepository(session).get_customer(customer_id)
    claim = await ClaimsRepository(session).get_claim(customer_id, claim_number)
    return json_response(claim_json(claim))


@with_session
async def create_claim(request: Any, session: AsyncSession, customer_id: str) -> HTTPResponse:
    body = read_json_object(request)
    declaration, key = parse_declaration(body, request.headers.get("idempotency-key"))
    policy = PolicyRepository(session)
    await policy.get_customer(customer_id)
    existing = await ClaimsRepository(session).find_by_idempotency_key(customer_id, key)
    if existing is not None:
        return json_response(claim_json(existing), status=200)
    contract = await policy.get_contract(customer_id, declaration.contract_number)
    check_declarable(contract, declaration, today())
    await ClaimsRepository(session).uploads_to_link(customer_id, declaration.attachments)
    claim, created = await file_claim(session, customer_id, key, declaration, now_utc())
    if created:
        logger.info("claim %s filed on contract %s", claim.claim_number, claim.contract_number)
    return json_response(
        claim_json(claim),
        status=201 if created else 200,
        headers={"Location": f"/v1/customers/{customer_id}/claims/{claim.claim_number}"},
    )


async def upload_file(request: Any) -> HTTPResponse:
    """A file for a claim, checked by its content; linked to a claim later."""
    settings = request.app.ctx.settings
    data = await read_capped_body(request, settings.upload_max_bytes)
    checked = await check_upload(
        data, request.headers.get("content-type"), request.headers.get("x-filename"),
        settings.upload_max_bytes,
    )
    async with request.app.ctx.sessionmaker() as session:
        document = await store_upload(session, settings.uploads_dir, checked, now_utc())
    logger.info("upload stored: %s, %d bytes", document.content_type, document.size)
    return json_response({
        "upload_id": document.document_id, "content_type": document.content_type,
        "size": document.size, "filename": document.filename,
    }, status=201)


@with_session
async def add_document(
    request: Any, session: AsyncSession, customer_id: str, claim_number: str
) -> HTTPResponse:
    """Links an upload to one of the customer's claims; linking it again is harmless."""
    upload_id = read_body(request, ClaimDocumentInput).upload_id
    await PolicyRepository(session).get_customer(customer_id)
    repository = ClaimsRepository(session)
    claim = await repository.get_claim(customer_id, claim_number)
    (document,) = await repository.uploads_to_link(customer_id, [upload_id], claim.id)
    created = document.claim_id is None
    if created:
        await repository.link_uploads(claim.id, [upload_id], now_utc())
        await session.commit()
        await session.refresh(document)
        logger.info("document linked to claim %s", claim.claim_number)
    return json_response(
        {"claim_number": claim.claim_number, "document": document_json(document)},
        status=201 if created else 200,
    )
