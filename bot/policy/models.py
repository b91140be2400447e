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
    """An identity check of one conversation: the SMS code, stored only as a keyed hash.

    Every well-formed request starts a check, so that the answer never tells whether
    the customer id exists or the birth date is right: a check without a code (no
    customer, or no code sent) refuses every code, like a wrong code.
    """

    __tablename__ = "one_time_codes"

    check_id = Column(String(32), primary_key=True)
    # Both set only when a code was sent, to that customer.
    customer_id = Column(ForeignKey("customers.customer_id"), index=True)
    code_hash = Column(String(64))
    # Keyed hashes: the check answers only its own conversation; the source tells
    # a device that already identified as the customer from a stranger.
    conversation_hash = Column(String(64), nullable=False, index=True)
    source_hash = Column(String(64))
    created_at = Column(UtcDateTime, nullable=False)
    expires_at = Column(UtcDateTime, nullable=False)
    attempts = Column(Integer, nullable=False)
    verified_at = Column(UtcDateTime)
    revoked_at = Column(UtcDateTime)  # replaced by a newer check of the same conversation


class IdentificationCounter(Base):
    """Wrong identification answers of one conversation, one source (the client's
    address or platform user) or one phone number, or the checks a conversation or a
    source started, and the lock they lead to.

    Never counted per customer id: a stranger's wrong answers must not lock the
    customer out. Keys are keyed hashes (no address or number in clear).
    """

    __tablename__ = "identification_counters"

    # conversation | source | phone: wrong answers; checks:conversation | checks:source
    scope = Column(String(20), primary_key=True)
    key_hash = Column(String(64), primary_key=True)
    failures = Column(Integer, nullable=False)  # counted since the last lock
    locks = Column(Integer, nullable=False)  # locks so far: each one lasts longer (sources)
    locked_until = Column(UtcDateTime)
    updated_at = Column(UtcDateTime, nullable=False)  # the last one counted


class CodeBudget(Base):
    """SMS codes sent to one customer in the current hour and day, for one device
    that already identified as them, or (requester "*") for everyone else: what a
    stranger who knows the birth date can send to a customer is bounded, without
    touching the customer's own devices."""

    __tablename__ = "identification_code_budgets"

    customer_id = Column(ForeignKey("customers.customer_id"), primary_key=True)
    requester = Column(String(64), primary_key=True)  # a source hash, or "*"
    hour_started_at = Column(UtcDateTime, nullable=False)
    codes_this_hour = Column(Integer, nullable=False)
    day_started_at = Column(UtcDateTime, nullable=False)
    codes_this_day = Column(Integer, nullable=False)


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
