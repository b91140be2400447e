"""Tables of the claims service."""
from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from core.db import Base, UtcDateTime

PHASES = ("declaration", "ouverture", "expertise", "indemnisation", "cloture")


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("customer_id", "idempotency_key"),)

    id = Column(Integer, primary_key=True)
    claim_number = Column(String(15), nullable=False, unique=True)
    customer_id = Column(ForeignKey("customers.customer_id"), nullable=False, index=True)
    contract_number = Column(ForeignKey("contracts.contract_number"), nullable=False)
    claim_type = Column(String(30), nullable=False)
    occurred_on = Column(Date, nullable=False)
    declared_at = Column(UtcDateTime, nullable=False)
    place = Column(Text, nullable=False)
    circumstances = Column(Text, nullable=False)
    damage = Column(Text, nullable=False)
    third_party = Column(Text)
    witnesses = Column(Text)
    channel = Column(String(40))
    phase = Column(String(20), nullable=False)
    expert_appointment = Column(UtcDateTime)
    amount_paid_cents = Column(Integer, nullable=False)
    idempotency_key = Column(String(100))

    # Loaded with the claim: async sessions cannot lazy-load later.
    events = relationship(
        "ClaimPhaseEvent", lazy="selectin", order_by="ClaimPhaseEvent.at",
        cascade="all, delete-orphan",
    )
    documents = relationship(
        "ClaimDocument", lazy="selectin", order_by="ClaimDocument.uploaded_at",
        cascade="all, delete-orphan",
    )


class ClaimPhaseEvent(Base):
    """One step of a claim's history: déclaration → ouverture → ... → clôturé."""

    __tablename__ = "claim_phase_events"

    id = Column(Integer, primary_key=True)
    claim_id = Column(ForeignKey("claims.id"), nullable=False, index=True)
    phase = Column(String(20), nullable=False)
    at = Column(UtcDateTime, nullable=False)


class ClaimDocument(Base):
    """A file received for a claim (photos, invoices, constat): its metadata.

    Uploaded first (`claim_id` null), then linked to one claim, once. The file
    itself lies in the uploads folder under `document_id` (demo documents have
    no file, hence no `sha256`).
    """

    __tablename__ = "claim_documents"

    document_id = Column(String(32), primary_key=True)
    claim_id = Column(ForeignKey("claims.id"), index=True)
    filename = Column(String(255), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64))
    uploaded_at = Column(UtcDateTime, nullable=False)
    linked_at = Column(UtcDateTime)
