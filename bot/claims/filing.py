"""Filing a claim: the declaration, the rules it must meet, and idempotent storage."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.claims.models import Claim, ClaimPhaseEvent
from bot.claims.repository import ClaimsRepository
from bot.claims.uploads import is_upload_id
from bot.clock import PARIS
from bot.errors import ServiceError
from bot.policy.coverage import CLAIM_TYPES, covered_claim_types
from bot.policy.models import Contract, Customer
from bot.policy.notifications import queue_claim_acknowledgement
from bot.references import MAX_ATTEMPTS, collision_pause
from bot.validation import BodyChecker

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 2000
MAX_ATTACHMENTS = 20
DECLARATION_FIELDS = (
    "contract_number", "claim_type", "occurred_on", "place", "circumstances", "damage",
    "third_party", "witnesses", "channel", "attachments",
)


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
    checker = BodyChecker(body, DECLARATION_FIELDS)
    contract_number = checker.text("contract_number", max_length=10)
    claim_type = checker.choice("claim_type", CLAIM_TYPES)
    occurred_on = checker.date("occurred_on")
    place = checker.text("place", max_length=TEXT_MAX_LENGTH)
    circumstances = checker.text("circumstances", max_length=TEXT_MAX_LENGTH)
    damage = checker.text("damage", max_length=TEXT_MAX_LENGTH)
    third_party = checker.text("third_party", required=False, max_length=TEXT_MAX_LENGTH)
    witnesses = checker.text("witnesses", required=False, max_length=TEXT_MAX_LENGTH)
    channel = checker.text("channel", required=False, max_length=40)
    attachments = upload_ids(checker, "attachments")
    key = (idempotency_key or "").strip()
    if not key:
        checker.fail("Idempotency-Key", "en-tête obligatoire")
    elif len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not key.isprintable():
        checker.fail("Idempotency-Key", f"1 à {IDEMPOTENCY_KEY_MAX_LENGTH} caractères imprimables")
    checker.raise_if_invalid()
    declaration = Declaration(
        contract_number=contract_number.upper(), claim_type=claim_type,
        occurred_on=occurred_on, place=place, circumstances=circumstances, damage=damage,
        third_party=third_party, witnesses=witnesses, channel=channel,
        attachments=attachments,
    )
    return declaration, key


def upload_ids(checker: BodyChecker, name: str) -> tuple[str, ...]:
    """An optional list of distinct upload ids (as POST /v1/uploads gave them)."""
    value: Any = checker.body.get(name)
    if value is None:
        return ()
    if (not isinstance(value, list) or len(value) > MAX_ATTACHMENTS
            or not all(is_upload_id(item) for item in value)):
        checker.fail(name, f"liste de {MAX_ATTACHMENTS} identifiants de fichiers au plus")
        return ()
    if len(set(value)) != len(value):
        checker.fail(name, "chaque fichier une seule fois")
        return ()
    return tuple(value)


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
            await session.commit()
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

