"""Filing a claim: the declaration, the rules it must meet, and idempotent storage."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Optional

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import PARIS
from core.metrics import CLAIMS_FILED, channel_label
from core.service_contract import ClaimDeclaration
from core.service_contract.routes import IDEMPOTENCY_KEY_MAX_LENGTH
from reference_services.claims.models import Claim, ClaimPhaseEvent
from reference_services.claims.repository import ClaimsRepository
from reference_services.errors import ServiceError
from reference_services.notices import record_claim_event
from reference_services.policy.coverage import covered_claim_types
from reference_services.policy.models import Contract, Customer
from reference_services.policy.notifications import queue_claim_acknowledgement
from reference_services.references import MAX_ATTEMPTS, collision_pause
from reference_services.validation import check_body

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Declaration:
    contract_number: str
    claim_type: str
    occurred_on: date
    place: str
    circumstances: str
    damage: str
    third_party: Optional[str]
    witnesses: Optional[str]
    channel: Optional[str]
    attachments: tuple[str, ...] = ()


def parse_declaration(body: dict, idempotency_key: Optional[str]) -> tuple[Declaration, str]:
    """The declaration and its idempotency key, or 422 with every faulty field."""
    key = (idempotency_key or "").strip()
    key_errors = {}
    if not key:
        key_errors["Idempotency-Key"] = "en-tête obligatoire"
    elif len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not key.isprintable():
        key_errors["Idempotency-Key"] = f"1 à {IDEMPOTENCY_KEY_MAX_LENGTH} caractères imprimables"
    body = check_body(body, ClaimDeclaration, key_errors)
    declaration = Declaration(
        contract_number=body.contract_number.upper(), claim_type=body.claim_type,
        occurred_on=body.occurred_on, place=body.place, circumstances=body.circumstances,
        damage=body.damage, third_party=body.third_party, witnesses=body.witnesses,
        channel=body.channel, attachments=tuple(body.attachments),
    )
    return declaration, key


def check_declarable(contract: Contract, declaration: Declaration, today: date) -> None:
    """The contract is in force, covers this loss, and the date is plausible."""
    if contract.status != "active":
        raise ServiceError("contract_not_active")
    covered = covered_claim_types(g["code"] for g in contract.guarantees)
    if declaration.claim_type not in covered:
        raise ServiceError("claim_type_not_covered", covered_claim_types=covered)
    if declaration.occurred_on > today:
        raise ServiceError("date_in_future")
    if declaration.occurred_on < contract.start_date:
        raise ServiceError(
            "date_before_contract_start", contract_start_date=contract.start_date.isoformat()
        )


async def file_claim(
    session: AsyncSession, customer_id: str, key: str, declaration: Declaration,
    now: datetime,
) -> tuple[Claim, bool]:
    """Store the claim under the next number, with its attachments; returns (claim, created).

    A key this customer already used gives back the claim it created. Two
    requests racing for the same number or key collide on a unique index: the
    loser starts over and then finds either a free number or the winner's claim.
    An attachment linked meanwhile to another claim refuses the whole filing.
    """
    repository = ClaimsRepository(session)
    year = now.astimezone(PARIS).year
    for attempt in range(1, MAX_ATTEMPTS + 1):
        existing = await repository.find_by_idempotency_key(customer_id, key)
        if existing is not None:
            return existing, False
        claim = Claim(
            claim_number=await repository.next_claim_number(year),
            customer_id=customer_id, contract_number=declaration.contract_number,
            claim_type=declaration.claim_type, occurred_on=declaration.occurred_on,
            declared_at=now, place=declaration.place,
            circumstances=declaration.circumstances, damage=declaration.damage,
            third_party=declaration.third_party, witnesses=declaration.witnesses,
            channel=declaration.channel, phase="declaration", expert_appointment=None,
            amount_paid_cents=0, idempotency_key=key,
            events=[ClaimPhaseEvent(phase="declaration", at=now)], documents=[],
        )
        session.add(claim)
        try:
            await session.flush()
            await repository.link_uploads(claim.id, declaration.attachments, now)
            # In the same transaction: every new claim is acknowledged, once.
            queue_claim_acknowledgement(
                session, await session.get(Customer, customer_id), claim.claim_number,
                claim.contract_number, claim.occurred_on, now,
            )
            # And told on the customer's channel, when they agreed to notices (issue 15).
            await record_claim_event(session, claim, "opened", now)
            await session.commit()
            CLAIMS_FILED.labels(channel_label(claim.channel)).inc()  # core/metrics.py
            if declaration.attachments:
                claim = await repository.reloaded(claim)
            return claim, True
        except ServiceError:
            await session.rollback()
            raise
        except IntegrityError:
            await session.rollback()
            logger.info("claim number or key taken meanwhile, retrying (attempt %d)", attempt)
            await collision_pause(attempt)
    raise ServiceError("service_unavailable")

