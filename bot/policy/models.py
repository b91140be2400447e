"""Tables of the policy service."""
from __future__ import annotations

from sqlalchemy import (
    JSON, Column, Date, ForeignKey, Integer, LargeBinary, Numeric, String, Text,
)

from bot.db import Base, UtcDateTime


class Customer(Base):
    __tablename__ = "customers"

    customer_id = Column(String(8), primary_key=True)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False)
    birth_date = Column(Date, nullable=False)
    email = Column(String(254), nullable=False)
    phone = Column(String(20), nullable=False, index=True)  # E.164
    street = Column(String(200), nullable=False)
    postcode = Column(String(10), nullable=False)
    city = Column(String(100), nullable=False)
    created_at = Column(UtcDateTime, nullable=False)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Contract(Base):
    __tablename__ = "contracts"

    contract_number = Column(String(10), primary_key=True)
    customer_id = Column(ForeignKey("customers.customer_id"), nullable=False, index=True)
    product = Column(String(20), nullable=False)
    label = Column(String(200), nullable=False)
    status = Column(String(20), nullable=False)  # active | terminated
    start_date = Column(Date, nullable=False)
    end_date = Column(Date)
    next_due_date = Column(Date)
    # Money in cents: exact on every database.
    premium_cents = Column(Integer, nullable=False)
    premium_frequency = Column(String(20), nullable=False)
    payment_method = Column(String(30), nullable=False)
    franchise_cents = Column(Integer)
    bonus_malus = Column(Numeric(4, 2, asdecimal=False))
    beneficiary_clause = Column(Text)
    vehicle_make = Column(String(60))
    vehicle_model = Column(String(60))
    vehicle_plate = Column(String(12))
    insured_street = Column(String(200))
    insured_postcode = Column(String(10))
    insured_city = Column(String(100))
    insured_activity = Column(String(200))  # pro contracts: the declared trade
    guarantees = Column(JSON, nullable=False)  # [{"code", "label"}]


class GeneratedDocument(Base):
    """A PDF produced by the service (attestations), kept to be downloaded."""

    __tablename__ = "generated_documents"

    document_id = Column(String(32), primary_key=True)
    customer_id = Column(ForeignKey("customers.customer_id"), nullable=False, index=True)
    contract_number = Column(ForeignKey("contracts.contract_number"), nullable=False)
    document_type = Column(String(20), nullable=False)  # attestation
    kind = Column(String(20), nullable=False)  # standard | scolaire
    reference = Column(String(20), nullable=False, unique=True)
    valid_from = Column(Date, nullable=False)
    valid_to = Column(Date, nullable=False)
    filename = Column(String(100), nullable=False)
    content_type = Column(String(50), nullable=False)
    content = Column(LargeBinary, nullable=False)
    created_at = Column(UtcDateTime, nullable=False)


class CustomerRequest(Base):
    """A change that needs the insurer's approval (DEM-YYYY-NNNNNN)."""

    __tablename__ = "customer_requests"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    customer_id = Column(ForeignKey("customers.customer_id"), nullable=False, index=True)
    contract_number = Column(ForeignKey("contracts.contract_number"))
    kind = Column(String(30), nullable=False)
    details = Column(JSON, nullable=False)
    status = Column(String(20), nullable=False)
    expected_by = Column(Date, nullable=False)
    created_at = Column(UtcDateTime, nullable=False)


class Handoff(Base):
    """A conversation waiting for a human adviser (TRF-YYYY-NNNNNN)."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    customer_id = Column(ForeignKey("customers.customer_id"), index=True)
    channel = Column(String(40), nullable=False)
    reason = Column(String(200), nullable=False)
    summary = Column(Text, nullable=False)
    status = Column(String(20), nullable=False)
    created_at = Column(UtcDateTime, nullable=False)


class OneTimeCode(Base):
    """An identity check: the SMS code, stored only as a keyed hash."""

    __tablename__ = "one_time_codes"

    check_id = Column(String(32), primary_key=True)
    customer_id = Column(ForeignKey("customers.customer_id"), nullable=False, index=True)
    code_hash = Column(String(64), nullable=False)
    created_at = Column(UtcDateTime, nullable=False)
    expires_at = Column(UtcDateTime, nullable=False)
    attempts = Column(Integer, nullable=False)
    verified_at = Column(UtcDateTime)
    revoked_at = Column(UtcDateTime)  # replaced by a newer code


class IdentificationLock(Base):
    """Wrong answers of a customer's identification, and the lock they lead to."""

    __tablename__ = "identification_locks"

    customer_id = Column(ForeignKey("customers.customer_id"), primary_key=True)
    failed_attempts = Column(Integer, nullable=False)
    locked_until = Column(UtcDateTime)
    updated_at = Column(UtcDateTime, nullable=False)


class PhoneIdentificationLock(Base):
    """Wrong answers of identifications started from a phone number, known or not
    (an unknown number must lock like a known one: no hint either way)."""

    __tablename__ = "phone_identification_locks"

    phone_number = Column(String(20), primary_key=True)  # E.164
    failed_attempts = Column(Integer, nullable=False)
    locked_until = Column(UtcDateTime)
    updated_at = Column(UtcDateTime, nullable=False)


class OutboxMessage(Base):
    """An e-mail or SMS the system "sent" (the reference implementation sends nothing)."""

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True)
    channel = Column(String(10), nullable=False)  # email | sms
    recipient = Column(String(254), nullable=False, index=True)
    subject = Column(String(200))
    body = Column(Text, nullable=False)
    status = Column(String(20), nullable=False)
    created_at = Column(UtcDateTime, nullable=False)
