"""HTTP routes of the claims service (docs/services-api.md, "Claims service")."""
from __future__ import annotations

import logging
from typing import Any

from sanic import Blueprint
from sanic.response import HTTPResponse
from sqlalchemy.ext.asyncio import AsyncSession

from bot.claims.filing import check_declarable, file_claim, parse_declaration
from bot.claims.repository import ClaimsRepository
from bot.claims.serializers import claim_json
from bot.clock import now_utc, today_paris
from bot.db import with_session
from bot.policy.repository import PolicyRepository
from bot.responses import json_response
from bot.validation import read_json_object

logger = logging.getLogger(__name__)

CLAIMS = "/v1/customers/<customer_id:str>/claims"


def create_blueprint() -> Blueprint:
    """A fresh blueprint (one per app, so that several apps can coexist)."""
    bp = Blueprint("claims")
    bp.add_route(list_claims, CLAIMS, methods=["GET"])
    bp.add_route(create_claim, CLAIMS, methods=["POST"])
    bp.add_route(get_claim, f"{CLAIMS}/<claim_number:str>", methods=["GET"])
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
    check_declarable(contract, declaration, today_paris())
    claim, created = await file_claim(session, customer_id, key, declaration, now_utc())
    if created:
        logger.info("claim %s filed on contract %s", claim.claim_number, claim.contract_number)
    return json_response(
        claim_json(claim),
        status=201 if created else 200,
        headers={"Location": f"/v1/customers/{customer_id}/claims/{claim.claim_number}"},
    )
