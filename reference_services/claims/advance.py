"""The back-office's move of a claim (`python -m reference_services.cli claims advance`):
its phase, the expert's visit, the indemnity paid, its closing; each change with its phase
event and the customer's notice (reference_services/notices) in one transaction."""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import sessionmaker

from core.clock import PARIS, isoformat_paris, now_utc
from core.db import create_app_engine
from core.labels import euros
from core.settings import Settings
from reference_services.claims.models import PHASES, Claim, ClaimPhaseEvent
from reference_services.notices import record_claim_event
from reference_services.notices.service import french_moment


class AdvanceRefused(ValueError):
    """The claim does not exist, or the change does not read."""


@dataclass(frozen=True)
class Advance:
    phase: Optional[str] = None
    expert_visit: Optional[datetime] = None  # aware
    paid_cents: Optional[int] = None  # the total paid so far
    closed: bool = False


def parse_visit(raw: str) -> datetime:
    """« 2026-12-10T14:00 » in Paris time (an offset, if given, is kept)."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise AdvanceRefused(f"--expert-visit {raw!r}: expected 2026-12-10T14:00 (Paris time)") from None
    return moment.replace(tzinfo=PARIS) if moment.tzinfo is None else moment


def parse_euros(raw: str) -> int:
    """« 412 », « 412,50 », « 412.5 » → cents."""
    text = raw.strip().replace("€", "").replace(" ", "").replace(",", ".")
    if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", text):
        raise AdvanceRefused(f"--paid {raw!r}: expected an amount in euros, e.g. 412 or 412,50")
    return round(float(text) * 100)


async def advance_claim(session: AsyncSession, claim_number: str, change: Advance,
                        now: datetime) -> list[str]:
    """Applies `change` to the claim and commits; what was done, one line each."""
    claim = (await session.execute(
        select(Claim).where(Claim.claim_number == claim_number.strip().upper())
    )).scalar_one_or_none()
    if claim is None:
        raise AdvanceRefused(f"no claim {claim_number}")
    if change.phase is not None and change.phase not in PHASES:
        raise AdvanceRefused(f"--phase must be one of {', '.join(PHASES)}")
    done: list[str] = []
    notices = []

    def move_to(phase: str) -> None:
        if claim.phase != phase:
            done.append(f"phase {claim.phase} → {phase}")
            claim.phase = phase
            claim.events.append(ClaimPhaseEvent(phase=phase, at=now))

    if change.phase is not None:
        move_to(change.phase)
    if change.expert_visit is not None:
        previous = claim.expert_appointment
        if previous is None or previous != change.expert_visit:
            claim.expert_appointment = change.expert_visit
            event = "expert_visit_set" if previous is None else "expert_visit_moved"
            done.append(f"expert visit {'set' if previous is None else 'moved'} to "
                        f"{isoformat_paris(change.expert_visit)} ({french_moment(change.expert_visit, now)})")
            notices.append(await record_claim_event(session, claim, event, now, {
                "expert_visit": change.expert_visit, "previous_expert_visit": previous}))
    if change.paid_cents is not None and change.paid_cents != claim.amount_paid_cents:
        if change.phase is None and claim.phase not in ("indemnisation", "cloture"):
            move_to("indemnisation")
        paid = change.paid_cents - claim.amount_paid_cents
        claim.amount_paid_cents = change.paid_cents
        done.append(f"indemnity paid: {euros(paid / 100)} (total {euros(change.paid_cents / 100)})")
        notices.append(await record_claim_event(session, claim, "indemnity_paid", now,
                                                {"amount_paid_cents": paid, "total_paid_cents": change.paid_cents}))
    if change.closed:
        if claim.phase != "cloture":
            move_to("cloture")
            notices.append(await record_claim_event(session, claim, "closed", now))
    await session.commit()
    if not done:
        done.append("nothing to change")
    for notice in notices:
        if notice is None:
            done.append("no notice: the customer did not agree to be told on a channel")
        else:
            done.append(f"notice #{notice.id} queued on {notice.channel}: « {notice.text} »")
    return [f"{claim.claim_number}: {line}" for line in done]


def advance_command(settings: Settings, claim_number: str, change: Advance,
                    now: Optional[datetime] = None) -> list[str]:
    """The CLI's side: its own engine, one transaction."""
    async def run() -> list[str]:
        engine = create_app_engine(settings)
        try:
            maker = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, future=True)
            async with maker() as session:
                return await advance_claim(session, claim_number, change, now or now_utc())
        finally:
            await engine.dispose()

    return asyncio.run(run())
