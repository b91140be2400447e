"""Queries of the claims service; every lookup is scoped to the customer."""
from __future__ import annotations

from typing import Optional, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.claims.models import Claim
from bot.errors import ServiceError
from bot.references import next_yearly_reference


class ClaimsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_claims(self, customer_id: str) -> Sequence[Claim]:
        result = await self.session.execute(
            select(Claim)
            .where(Claim.customer_id == customer_id)
            .order_by(Claim.declared_at.desc(), Claim.id.desc())
        )
        return result.scalars().all()

    async def get_claim(self, customer_id: str, claim_number: str) -> Claim:
        result = await self.session.execute(
            select(Claim).where(
                Claim.customer_id == customer_id,
                Claim.claim_number == claim_number.upper(),
            )
        )
        claim = result.scalar_one_or_none()
        if claim is None:
            raise ServiceError("claim_not_found")
        return claim

    async def find_by_idempotency_key(self, customer_id: str, key: str) -> Optional[Claim]:
        result = await self.session.execute(
            select(Claim).where(Claim.customer_id == customer_id, Claim.idempotency_key == key)
        )
        return result.scalar_one_or_none()

    async def next_claim_number(self, year: int) -> str:
        """SIN-YEAR-NNNNNN after the year's highest number (demo numbers included)."""
        return await next_yearly_reference(self.session, Claim.claim_number, "SIN", year)
