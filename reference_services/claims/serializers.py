"""A claim and its documents, as the contract's models describe them
(core/service_contract/answers.py: Claim, ClaimDocument)."""
from __future__ import annotations

from core.clock import isoformat_paris
from reference_services.claims.models import Claim, ClaimDocument
from reference_services.policy.serializers import euros


def claim_json(claim: Claim) -> dict:
    return {
        "claim_number": claim.claim_number,
        "customer_id": claim.customer_id,
        "contract_number": claim.contract_number,
        "claim_type": claim.claim_type,
        "occurred_on": claim.occurred_on.isoformat(),
        "declared_at": isoformat_paris(claim.declared_at),
        "place": claim.place,
        "circumstances": claim.circumstances,
        "damage": claim.damage,
        "third_party": claim.third_party,
        "witnesses": claim.witnesses,
        "channel": claim.channel,
        "phase": claim.phase,
        "phase_history": [
            {"phase": event.phase, "at": isoformat_paris(event.at)} for event in claim.events
        ],
        "expert_appointment": isoformat_paris(claim.expert_appointment),
        "amount_paid_eur": euros(claim.amount_paid_cents),
        "documents": [document_json(document) for document in claim.documents],
    }


def document_json(document: ClaimDocument) -> dict:
    return {
        "document_id": document.document_id,
        "filename": document.filename,
        "content_type": document.content_type,
        "size": document.size,
        "uploaded_at": isoformat_paris(document.uploaded_at),
    }
