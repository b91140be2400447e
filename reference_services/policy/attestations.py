"""Issuing an attestation: checks, PDF rendering, storage and signed link."""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import PARIS, isoformat_paris
from core.masking import mask_email
from core.metrics import ATTESTATIONS_ISSUED, bounded
from core.service_contract import AttestationKind
from core.settings import Settings
from reference_services.documents.attestation import AttestationContent, render_attestation, validity_period
from reference_services.documents.links import signed_url
from reference_services.errors import ServiceError, validation_error
from reference_services.policy.coverage import SCHOOL_LIABILITY_GUARANTEE, TEN_YEAR_LIABILITY_GUARANTEE
from reference_services.policy.models import Contract, Customer, GeneratedDocument
from reference_services.policy.notifications import queue_attestation_link
from reference_services.references import commit_with_retries, random_reference

KINDS = tuple(kind.value for kind in AttestationKind)


@dataclass(frozen=True)
class IssuedAttestation:
    document: GeneratedDocument
    url: str
    link_expires_at: datetime
    sent_to: Optional[str]


def check_can_issue(contract: Contract, kind: str) -> None:
    """Terminated contracts get none; a school certificate needs a home contract
    with the private-life liability guarantee."""
    if contract.status != "active":
        raise ServiceError(
            "contract_terminated",
            f"Le contrat {contract.contract_number} est résilié depuis le "
            f"{contract.end_date:%d/%m/%Y} : il ne peut plus donner lieu à une attestation."
            if contract.end_date else None,
            end_date=contract.end_date.isoformat() if contract.end_date else None,
        )
    codes = {g["code"] for g in contract.guarantees}
    if kind == "scolaire" and (
        contract.product != "habitation" or SCHOOL_LIABILITY_GUARANTEE not in codes
    ):
        raise validation_error({
            "kind": "l'attestation scolaire s'obtient avec un contrat habitation "
                    "comprenant la responsabilité civile vie privée",
        })


def attestation_content(
    customer: Customer, contract: Contract, kind: str, reference: str, now: datetime
) -> AttestationContent:
    valid_from, valid_to = validity_period(contract.start_date, contract.next_due_date)
    vehicle = None
    if contract.vehicle_plate:
        vehicle = (f"{contract.vehicle_make} {contract.vehicle_model}, "
                   f"immatriculé {contract.vehicle_plate}")
    insured_address = None
    if contract.insured_street:
        insured_address = (f"{contract.insured_street}, {contract.insured_postcode} "
                           f"{contract.insured_city}")
    codes = {g["code"] for g in contract.guarantees}
    return AttestationContent(
        reference=reference, kind=kind, product=contract.product,
        contract_number=contract.contract_number, contract_label=contract.label,
        holder_name=customer.full_name,
        holder_address=(customer.street, f"{customer.postcode} {customer.city}"),
        valid_from=valid_from, valid_to=valid_to, issued_on=now.astimezone(PARIS).date(),
        vehicle=vehicle if kind == "standard" else None,
        insured_address=insured_address if kind == "standard" else None,
        insured_activity=contract.insured_activity,
        ten_year_liability=TEN_YEAR_LIABILITY_GUARANTEE in codes,
        guarantees=tuple(g["label"] for g in contract.guarantees) if kind == "standard" else (),
    )


async def issue_attestation(
    session: AsyncSession, settings: Settings, customer: Customer, contract: Contract,
    kind: str, send_by_email: bool, now: datetime,
) -> IssuedAttestation:
    """Render and store the PDF, return its signed link (and e-mail it if asked)."""
    check_can_issue(contract, kind)
    loop = asyncio.get_running_loop()
    expires = int(now.timestamp()) + settings.document_link_ttl_seconds
    link_expires_at = datetime.fromtimestamp(expires, tz=now.tzinfo)

    async def attempt() -> IssuedAttestation:
        reference = random_reference("ATT", now.astimezone(PARIS).year)
        content = attestation_content(customer, contract, kind, reference, now)
        # Rendering is CPU work: keep the event loop free for other requests.
        pdf = await loop.run_in_executor(None, render_attestation, content)
        document = GeneratedDocument(
            document_id=uuid.uuid4().hex, customer_id=customer.customer_id,
            contract_number=contract.contract_number, document_type="attestation",
            kind=kind, reference=reference, valid_from=content.valid_from,
            valid_to=content.valid_to,
            filename=f"attestation-{contract.contract_number}.pdf",
            content_type="application/pdf", content=pdf, created_at=now,
        )
        session.add(document)
        url = signed_url(settings.documents_public_url, document.document_id, expires,
                         settings.document_link_secret)
        sent_to = None
        if send_by_email:
            queue_attestation_link(session, customer, contract.contract_number, url,
                                   link_expires_at.astimezone(PARIS).date(), now)
            sent_to = mask_email(customer.email)
        return IssuedAttestation(document, url, link_expires_at, sent_to)

    issued = await commit_with_retries(session, attempt)
    ATTESTATIONS_ISSUED.labels(bounded(kind, KINDS)).inc()  # core/metrics.py
    return issued


def attestation_json(issued: IssuedAttestation) -> dict:
    document = issued.document
    body = {
        "document_id": document.document_id,
        "reference": document.reference,
        "contract_number": document.contract_number,
        "kind": document.kind,
        "valid_from": document.valid_from.isoformat(),
        "valid_to": document.valid_to.isoformat(),
        "url": issued.url,
        "expires_at": isoformat_paris(issued.link_expires_at),
    }
    if issued.sent_to:
        body["sent_to"] = issued.sent_to
    return body
