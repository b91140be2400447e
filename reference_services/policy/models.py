"""Tables of the policy service."""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)

from core.db import Base, UtcDateTime


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
    # What the tariff needs beyond the columns above (A: reference_services/policy/tariff.py):
    # e.g. {"vehicle_year": 2019, "usage": "trajets", "parking": "garage"}; null: unpriced.
    risk = Column(JSON)


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
    status = Column(String(20), nullable=False)  # waiting -> taken -> closed
    created_at = Column(UtcDateTime, nullable=False)
    # The conversation an adviser may read and answer (its sender id), and where to call
    # an anonymous visitor back (E.164 or e-mail).
    conversation_id = Column(String(128), index=True)
    contact = Column(String(254))
    taken_by = Column(ForeignKey("advisers.id"))
    taken_at = Column(UtcDateTime)
    closed_at = Column(UtcDateTime)


class HandoffEvent(Base):
    """What happened to a hand-off and who did it: filed, opened (an adviser read the
    customer's data), taken, message (an adviser's words), closed."""

    __tablename__ = "handoff_events"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(ForeignKey("handoffs.id"), nullable=False, index=True)
    kind = Column(String(20), nullable=False)
    adviser_id = Column(ForeignKey("advisers.id"))
    text = Column(Text)
    created_at = Column(UtcDateTime, nullable=False)


class Adviser(Base):
    """Someone of the insurer who answers hand-offs in the advisers' console."""

    __tablename__ = "advisers"

    id = Column(Integer, primary_key=True)
    login = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(100), nullable=False)
    role = Column(String(20), nullable=False)  # adviser | supervisor
    password_hash = Column(String(200), nullable=False)  # argon2id
    failed_logins = Column(Integer, nullable=False)  # in a row, since the last success
    locked_until = Column(UtcDateTime)
    created_at = Column(UtcDateTime, nullable=False)


class AdviserSession(Base):
    """An adviser's session in the console: only the SHA-256 of its token is kept."""

    __tablename__ = "adviser_sessions"

    token_hash = Column(String(64), primary_key=True)
    adviser_id = Column(ForeignKey("advisers.id"), nullable=False, index=True)
    created_at = Column(UtcDateTime, nullable=False)
    last_seen_at = Column(UtcDateTime, nullable=False)
    expires_at = Column(UtcDateTime, nullable=False)  # absolute, whatever the use


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
    """An e-mail or SMS the services send. SMS are only recorded ("sent"); e-mails too
    without SMTP_URL, and with it they go "queued" → "sending" → "sent" (or "failed" after
    MAX_ATTEMPTS), delivered by the policy service (reference_services/mail.py)."""

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True)
    channel = Column(String(10), nullable=False)  # email | sms
    recipient = Column(String(254), nullable=False, index=True)
    subject = Column(String(200))
    body = Column(Text, nullable=False)
    status = Column(String(20), nullable=False, index=True)  # sent | queued | sending | failed
    created_at = Column(UtcDateTime, nullable=False)
    attempts = Column(Integer, nullable=False, default=0, server_default="0")
    # queued: not before; sending: the claim lapses then (a replica stopped mid-send).
    next_attempt_at = Column(UtcDateTime)
    sent_at = Column(UtcDateTime)
    # A document rendered when the e-mail is delivered (reference_services/mail.py), e.g.
    # "quote:DEV-2026-000001" (A: the quote as a PDF).
    attachment = Column(String(40))


# --- C: alerts the customers set (reference_services/policy/alerts.py) ---------------


class Alert(Base):
    """A reminder a customer asked for: before a due date, before the tacit renewal
    (with the notice period and the last day to terminate), or when a premium is unpaid;
    on one contract or (contract_number null) on each of the customer's active ones."""

    __tablename__ = "alerts"

    alert_id = Column(String(32), primary_key=True)
    customer_id = Column(ForeignKey("customers.customer_id"), nullable=False, index=True)
    kind = Column(String(20), nullable=False)  # due_date | renewal | unpaid_premium
    contract_number = Column(ForeignKey("contracts.contract_number"))
    days_before = Column(Integer, nullable=False)
    # email | sms, or a conversation's channel (widget, whatsapp, telegram, messenger):
    # there through the claim notices' consent when there is one, else by e-mail.
    channel = Column(String(20), nullable=False)
    status = Column(String(20), nullable=False)  # active | cancelled
    created_at = Column(UtcDateTime, nullable=False)
    cancelled_at = Column(UtcDateTime)


class AlertReminder(Base):
    """A reminder produced for an alert: one per contract and occasion (the due date, or
    the unpaid premium's due day), never twice."""

    __tablename__ = "alert_reminders"
    __table_args__ = (UniqueConstraint("alert_id", "contract_number", "occasion"),)

    id = Column(Integer, primary_key=True)
    alert_id = Column(ForeignKey("alerts.alert_id"), nullable=False, index=True)
    contract_number = Column(String(10), nullable=False)
    occasion = Column(Date, nullable=False)
    sent_via = Column(String(20), nullable=False)  # notice | email | sms
    created_at = Column(UtcDateTime, nullable=False)


class UnpaidPremium(Base):
    """A premium the insurer did not receive (recorded by the back office, e.g.
    `python -m reference_services.cli alerts unpaid`); paid_at set once received."""

    __tablename__ = "unpaid_premiums"

    id = Column(Integer, primary_key=True)
    contract_number = Column(ForeignKey("contracts.contract_number"), nullable=False, index=True)
    amount_cents = Column(Integer, nullable=False)
    due_on = Column(Date, nullable=False)
    paid_at = Column(UtcDateTime)
    created_at = Column(UtcDateTime, nullable=False)


# --- A: quotes (reference_services/policy/quotes.py, tariff.py) ------------------------


class Quote(Base):
    """A quote priced by the tariff (DEV-YYYY-NNNNNN), kept and readable after it expires;
    of an identified customer or (customer_id null) of an anonymous visitor."""

    __tablename__ = "quotes"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    product = Column(String(20), nullable=False)  # auto | habitation
    tariff_version = Column(String(40), nullable=False)
    customer_id = Column(ForeignKey("customers.customer_id"), index=True)
    risk = Column(JSON, nullable=False)  # normalized inputs
    formulas = Column(JSON, nullable=False)  # as the API answers them
    factors = Column(JSON, nullable=False)  # risk factor -> value applied
    created_at = Column(UtcDateTime, nullable=False)
    valid_until = Column(Date, nullable=False)
