"""Queries of the claims service; every lookup is scoped to the customer."""
from __future__ import annotations

from datetime import datetime
from typing import Collection, Optional, Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from reference_services.claims.models import Claim, ClaimDocument
from reference_services.errors import ServiceError
from reference_services.references import next_yearly_reference


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

    async def reloaded(self, claim: Claim) -> Claim:
        """The claim read again, its documents included (after a bulk link)."""
        result = await self.session.execute(
            select(Claim).where(Claim.id == claim.id).execution_options(populate_existing=True)
        )
        return result.scalar_one()

    async def find_by_idempotency_key(self, customer_id: str, key: str) -> Optional[Claim]:
        result = await self.session.execute(
            select(Claim).where(Claim.customer_id == customer_id, Claim.idempotency_key == key)
        )
        return result.scalar_one_or_none()

    async def next_claim_number(self, year: int) -> str:
        """SIN-YEAR-NNNNNN after the year's highest number (demo numbers included)."""
        return await next_yearly_reference(self.session, Claim.claim_number, "SIN", year)

    async def uploads_to_link(
        self, customer_id: str, upload_ids: Collection[str], claim_id: Optional[int] = None
    ) -> Sequence[ClaimDocument]:
        """The uploads named, all free or already on `claim_id`; refused otherwise
        (upload_not_found, upload_already_linked). An upload on another customer's
        claim is answered exactly like one that does not exist."""
        if not upload_ids:
            return []
        result = await self.session.execute(
            select(ClaimDocument, Claim.customer_id)
            .outerjoin(Claim, ClaimDocument.claim_id == Claim.id)
            .where(ClaimDocument.document_id.in_(list(upload_ids)))
        )
        documents = [document for document, owner in result.all() if owner in (None, customer_id)]
        if len(documents) != len(set(upload_ids)):
            raise ServiceError("upload_not_found")
        if any(d.claim_id is not None and d.claim_id != claim_id for d in documents):
            raise ServiceError("upload_already_linked")
        return documents

    async def link_uploads(self, claim_id: int, upload_ids: Collection[str], now: datetime) -> None:
        """Links free uploads to the claim, in the caller's transaction.

        The update only takes uploads still free: one linked meanwhile by a
        concurrent request makes the count fall short and the whole link refused.
        """
        if not upload_ids:
            return
        result = await self.session.execute(
            update(ClaimDocument)
            .where(ClaimDocument.document_id.in_(list(upload_ids)),
                   ClaimDocument.claim_id.is_(None))
            .values(claim_id=claim_id, linked_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(set(upload_ids)):
            raise ServiceError("upload_already_linked")
