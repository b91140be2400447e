"""Quotes and simulations, priced by the tariff (reference_services/policy/tariff.py):
POST /v1/quotes, GET /v1/quotes/{reference}, its e-mail with the PDF and the request to an
adviser (docs/services-api.md « Devis et simulations »), and the simulation of a change on a
customer's contract. Every refusal is checked before anything is written."""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import date, timedelta
from typing import Any, Dict, List, Optional

from sanic import Blueprint
from sanic.response import HTTPResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import PARIS, french_date, isoformat_paris, now_utc, today
from core.db import with_session
from core.masking import mask_email
from core.metrics import HANDOFFS, channel_label
from core.service_contract import QuoteEmailInput, QuoteFollowUpInput, QuoteInput, SimulationInput
from reference_services.auth import check_identity
from reference_services.documents.quote import QuoteContent, euros, render_quote, risk_lines
from reference_services.errors import ServiceError, validation_error
from reference_services.policy import notifications
from reference_services.policy.models import Contract, Handoff, HandoffEvent, OutboxMessage, Quote
from reference_services.policy.repository import PolicyRepository
from reference_services.policy.tariff import RiskRefused, Tariff, load_tariff, scaled_cents
from reference_services.references import commit_with_retries, next_yearly_reference
from reference_services.responses import json_response
from reference_services.validation import read_body

logger = logging.getLogger(__name__)

QUOTE_REFERENCE = re.compile(r"DEV-\d{4}-\d{6}")
PERIODS_PER_YEAR = {"mensuelle": 12, "trimestrielle": 4, "annuelle": 1}
QUOTE_HANDOFF_REASON = "quote"
MAX_EMAILS_PER_QUOTE = 3


def add_routes(bp: Blueprint) -> None:
    """The quotes' and simulations' routes; the tariff (TARIFF_RULES_FILE) is read when the
    server starts: a rules file that does not follow docs/tariff.md stops it, with the reason."""
    bp.listener("before_server_start")(_read_tariff)
    bp.add_route(create_quote, "/v1/quotes", methods=["POST"])
    bp.add_route(get_quote, "/v1/quotes/<quote_reference:str>", methods=["GET"])
    bp.add_route(email_quote, "/v1/quotes/<quote_reference:str>/email", methods=["POST"])
    bp.add_route(follow_up_quote, "/v1/quotes/<quote_reference:str>/follow-up", methods=["POST"])
    bp.add_route(simulate_contract_change,
                 "/v1/customers/<customer_id:str>/contracts/<contract_number:str>/simulations",
                 methods=["POST"])


async def _read_tariff(app: Any, _loop: Any) -> None:
    tariff = load_tariff(app.ctx.settings.tariff_rules_file or None)
    logger.info("tariff %s in force", tariff.version)


def _tariff(request: Any) -> Tariff:
    return load_tariff(request.app.ctx.settings.tariff_rules_file or None)


# --- quotes --------------------------------------------------------------------------


@with_session
async def create_quote(request: Any, session: AsyncSession) -> HTTPResponse:
    body = read_body(request, QuoteInput)
    if body.customer_id:  # naming a customer takes her assertion, checked first
        check_identity(request, body.customer_id)
        await PolicyRepository(session).get_customer(body.customer_id)
    tariff, day, now = _tariff(request), today(), now_utc()
    try:
        risk = tariff.normalize(body.product, body.risk, day)
    except RiskRefused as refused:
        # Names as field_errors cuts them: a client's unknown member is not echoed whole.
        raise validation_error({f"risk.{name[:100]}": reason for name, reason in refused.fields.items()}) from None
    formulas = tariff.formulas(body.product, risk, day)
    factors = tariff.risk_factors(body.product, risk, day)

    async def attempt() -> Quote:
        quote = Quote(
            reference=await next_yearly_reference(session, Quote.reference, "DEV", now.astimezone(PARIS).year),
            product=body.product, tariff_version=tariff.version, customer_id=body.customer_id,
            risk=risk, formulas=formulas, factors={name: float(value) for name, value in factors.items()},
            created_at=now, valid_until=day + timedelta(days=tariff.quote_validity_days),
        )
        session.add(quote)
        await session.flush()
        return quote

    saved = await commit_with_retries(session, attempt)
    logger.info("quote %s (%s) priced with tariff %s", saved.reference, saved.product, saved.tariff_version)
    return json_response(quote_json(saved, day), status=201)


@with_session
async def get_quote(request: Any, session: AsyncSession, quote_reference: str) -> HTTPResponse:
    return json_response(quote_json(await _quote(session, quote_reference), today()))


@with_session
async def email_quote(request: Any, session: AsyncSession, quote_reference: str) -> HTTPResponse:
    body = read_body(request, QuoteEmailInput)
    quote = await _quote(session, quote_reference)
    # Anyone may ask for a quote: it goes to a few addresses at most, never a mailing list.
    sent = (await session.execute(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.attachment == f"quote:{quote.reference}"))).scalar_one()
    if sent >= MAX_EMAILS_PER_QUOTE:
        raise validation_error({"email": f"ce devis a déjà été envoyé {MAX_EMAILS_PER_QUOTE} fois"})
    products = _tariff(request).products
    label = products[quote.product].label if quote.product in products else "assurance"
    notifications.queue_quote_email(session, body.email, quote.reference, label, quote.valid_until, now_utc())
    await session.commit()
    logger.info("quote %s e-mailed to %s", quote.reference, mask_email(body.email))
    return json_response({"sent_to": mask_email(body.email)}, status=202)


@with_session
async def follow_up_quote(request: Any, session: AsyncSession, quote_reference: str) -> HTTPResponse:
    body = read_body(request, QuoteFollowUpInput)
    if body.customer_id:  # naming a customer takes her assertion, checked first
        check_identity(request, body.customer_id)
        await PolicyRepository(session).get_customer(body.customer_id)
    quote = await _quote(session, quote_reference)
    formula = next((f for f in quote.formulas if f["code"] == body.formula), None)
    if formula is None:
        raise validation_error({"formula": "formule attendue parmi : "
                                + ", ".join(f["code"] for f in quote.formulas)})
    if not body.customer_id and not body.contact:
        raise validation_error({"contact": "champ obligatoire sans client identifié (téléphone ou e-mail)"})
    now, day = now_utc(), today()
    summary = follow_up_summary(quote, formula, day)

    async def attempt() -> Handoff:
        handoff = Handoff(
            reference=await next_yearly_reference(session, Handoff.reference, "TRF", now.astimezone(PARIS).year),
            customer_id=body.customer_id, channel=body.channel, reason=QUOTE_HANDOFF_REASON,
            summary=summary, status="waiting", created_at=now, conversation_id=body.conversation_id,
            contact=None if body.customer_id else body.contact,
        )
        session.add(handoff)
        await session.flush()
        session.add(HandoffEvent(handoff_id=handoff.id, kind="filed", created_at=now))
        notifications.queue_handoff_notice(session, handoff, request.app.ctx.settings, now)
        return handoff

    saved = await commit_with_retries(session, attempt)
    HANDOFFS.labels(channel_label(body.channel), QUOTE_HANDOFF_REASON).inc()  # core/metrics.py
    logger.info("hand-off %s filed for quote %s from %s", saved.reference, quote.reference, body.channel)
    return json_response({"reference": saved.reference, "status": saved.status,
                          "created_at": isoformat_paris(saved.created_at)}, status=201)


async def _quote(session: AsyncSession, reference: str) -> Quote:
    reference = reference.upper()
    quote = None
    if QUOTE_REFERENCE.fullmatch(reference):
        quote = (await session.execute(select(Quote).where(Quote.reference == reference))).scalar_one_or_none()
    if quote is None:
        raise ServiceError("quote_not_found")
    return quote


def quote_json(quote: Quote, day: date) -> dict:
    return {
        "reference": quote.reference,
        "product": quote.product,
        "tariff_version": quote.tariff_version,
        "created_at": isoformat_paris(quote.created_at),
        "valid_until": quote.valid_until.isoformat(),
        "expired": day > quote.valid_until,
        "risk": quote.risk,
        "factors": quote.factors,
        "formulas": quote.formulas,
    }


def follow_up_summary(quote: Quote, formula: Dict[str, Any], day: date) -> str:
    """What the adviser reads in the console: the quote, the formula and its price, the risk."""
    expired = " Devis expiré : à refaire au tarif du jour." if day > quote.valid_until else ""
    return (
        f"Souscription demandée sur le devis {quote.reference} ({quote.product}, tarif "
        f"{quote.tariff_version}, valable jusqu'au {french_date(quote.valid_until)}) : formule "
        f"{formula['label']}, {euros(formula['monthly_premium_cents'])} par mois "
        f"({euros(formula['annual_premium_cents'])} par an), franchise "
        f"{euros(formula['deductible_eur'] * 100)}. " + " ; ".join(risk_lines(quote.product, quote.risk))
        + "." + expired
    )


async def quote_attachment(session: AsyncSession, reference: str) -> tuple[str, str, bytes]:
    """The quote as a PDF, to attach to its e-mail (reference_services/mail.py)."""
    quote = await _quote(session, reference)
    content = QuoteContent(
        reference=quote.reference, product=quote.product, tariff_version=quote.tariff_version,
        created_on=quote.created_at.astimezone(PARIS).date(), valid_until=quote.valid_until,
        risk=quote.risk, formulas=quote.formulas,
    )
    pdf = await asyncio.get_running_loop().run_in_executor(None, render_quote, content)
    return f"devis-{quote.reference}.pdf", "application/pdf", pdf


# --- simulations on a contract -------------------------------------------------------


def contract_risk(contract: Contract) -> Dict[str, Any]:
    """The tariff's inputs of a contract: its columns, completed by its `risk` data."""
    risk: Dict[str, Any] = {}
    if contract.product == "auto":
        model = " ".join(part for part in (contract.vehicle_make, contract.vehicle_model) if part)
        if model:
            risk["vehicle_model"] = model
        if contract.bonus_malus is not None:
            risk["bonus_malus"] = float(contract.bonus_malus)
    elif contract.product == "habitation" and contract.insured_postcode:
        risk["postcode"] = contract.insured_postcode
    if contract.franchise_cents is not None:
        risk["deductible_eur"] = contract.franchise_cents // 100
    return {**risk, **(contract.risk or {})}


@with_session
async def simulate_contract_change(
    request: Any, session: AsyncSession, customer_id: str, contract_number: str
) -> HTTPResponse:
    body = read_body(request, SimulationInput)
    repository = PolicyRepository(session)
    await repository.get_customer(customer_id)
    contract = await repository.get_contract(customer_id, contract_number)
    if contract.status != "active":
        raise ServiceError(
            "contract_terminated",
            f"Le contrat {contract.contract_number} est résilié depuis le {contract.end_date:%d/%m/%Y}."
            if contract.end_date else None,
            end_date=contract.end_date.isoformat() if contract.end_date else None,
        )
    tariff, day = _tariff(request), today()
    product = tariff.products.get(contract.product)
    try:
        if product is None or contract.risk is None:
            raise RiskRefused({"contract_number": "unpriced"})
        risk = tariff.normalize(contract.product, contract_risk(contract), day)
    except RiskRefused:
        raise validation_error({"contract_number": "ce contrat ne se simule pas en ligne : un conseiller "
                                                   "fait le calcul sur demande"}) from None
    current_codes = [g["code"] for g in contract.guarantees]
    current_deductible = int(risk["deductible_eur"])
    deductible = current_deductible if body.deductible_eur is None else body.deductible_eur
    errors = _change_errors(product, current_codes, body, deductible)
    if errors:
        raise validation_error(errors)
    simulated_codes = [code for code in current_codes if code not in body.remove_guarantees]
    simulated_codes += [code for code in dict.fromkeys(body.add_guarantees) if code not in simulated_codes]

    current_price = tariff.price(contract.product, risk, current_codes, current_deductible, day)
    simulated_price = tariff.price(contract.product, risk, simulated_codes, deductible, day)
    current_annual = contract.premium_cents * PERIODS_PER_YEAR.get(contract.premium_frequency, 1)
    simulated_annual = scaled_cents(current_annual, simulated_price.annual_cents, current_price.annual_cents)
    current = _coverage(contract.premium_cents if contract.premium_frequency == "mensuelle" else None,
                        current_annual, current_deductible, contract.guarantees)
    labels = {g["code"]: g["label"] for g in contract.guarantees}
    simulated = _coverage(None, simulated_annual, deductible, [
        {"code": code, "label": labels.get(code) or product.guarantees[code].label} for code in simulated_codes])
    less_cover = bool(body.remove_guarantees) or deductible > current_deductible
    rule = tariff.effective_dates["less_cover" if less_cover else "more_cover"]
    effective = _effective_date(rule, contract, day)
    return json_response({
        "contract_number": contract.contract_number,
        "tariff_version": tariff.version,
        "current": current,
        "simulated": simulated,
        "difference_annual_cents": simulated["annual_premium_cents"] - current["annual_premium_cents"],
        "difference_monthly_cents": simulated["monthly_premium_cents"] - current["monthly_premium_cents"],
        "effective_date": effective[1].isoformat(),
        "effective_rule": effective[0],
        "deductible_levels": sorted(product.deductibles),
        "optional_guarantees": [{"code": g.code, "label": g.label}
                                for g in product.guarantees.values() if not g.required],
    })


def _change_errors(product: Any, current_codes: List[str], body: SimulationInput, deductible: int) -> Dict[str, str]:
    errors: Dict[str, str] = {}
    if body.deductible_eur is None and not body.add_guarantees and not body.remove_guarantees:
        errors["deductible_eur"] = "indiquez une franchise, ou des garanties à ajouter ou à retirer"
    if deductible not in product.deductibles:
        errors["deductible_eur"] = "franchise attendue parmi : " + ", ".join(map(str, sorted(product.deductibles)))
    addable = [code for code in product.guarantees if code not in current_codes]
    if any(code not in addable for code in body.add_guarantees):
        errors["add_guarantees"] = ("garantie attendue parmi : " + ", ".join(addable) if addable
                                    else "ce contrat a déjà toutes les garanties")
    removable = [code for code in current_codes
                 if code in product.guarantees and not product.guarantees[code].required]
    if any(code not in removable for code in body.remove_guarantees):
        errors["remove_guarantees"] = ("garantie attendue parmi : " + ", ".join(removable) if removable
                                       else "aucune garantie de ce contrat ne peut être retirée")
    return errors


def _coverage(monthly: Optional[int], annual: int, deductible: int, guarantees: List[dict]) -> dict:
    return {
        "deductible_eur": deductible,
        "guarantees": [{"code": g["code"], "label": g["label"]} for g in guarantees],
        "annual_premium_cents": annual,
        "monthly_premium_cents": monthly if monthly is not None else scaled_cents(annual, 1, 12),
    }


def _effective_date(rule: str, contract: Contract, day: date) -> tuple[str, date]:
    """The rule's date: the contract's next due date, or the 1st of next month (also when the
    contract has no due date)."""
    if rule == "next_due_date" and contract.next_due_date is not None:
        return rule, contract.next_due_date
    first_of_next_month = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return "next_month", first_of_next_month
