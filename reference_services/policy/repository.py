"""Queries of the policy service. Customer-scoped lookups always filter on the
customer, so another customer's resource is simply "not found"."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reference_services.errors import ServiceError
from reference_services.policy.models import Contract, Customer, GeneratedDocument


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_customer(self, customer_id: str) -> Customer:
        customer = await self.session.get(Customer, customer_id)
        if customer is None:
            raise ServiceError("customer_not_found")
        return customer

    async def list_contracts(self, customer_id: str) -> Sequence[Contract]:
        result = await self.session.execute(
            select(Contract)
            .where(Contract.customer_id == customer_id)
            .order_by(Contract.status, Contract.contract_number)
        )
        return result.scalars().all()

    async def get_contract(self, customer_id: str, contract_number: str) -> Contract:
        result = await self.session.execute(
            select(Contract).where(
                Contract.customer_id == customer_id,
                Contract.contract_number == contract_number.upper(),
            )
        )
        contract = result.scalar_one_or_none()
        if contract is None:
            raise ServiceError("contract_not_found")
        return contract

    async def get_document(self, document_id: str) -> GeneratedDocument:
        document = await self.session.get(GeneratedDocument, document_id)
        if document is None:
            raise ServiceError("document_not_found")
        return document

