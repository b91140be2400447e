"""Tables of the claim notices: the customers' consents, and the notices' outbox."""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Text

from core.db import Base, UtcDateTime


class NoticeConsent(Base):
    """A customer's « oui, prévenez-moi ici »: the channel and the address (a WhatsApp
    number, a Telegram chat, a Messenger user, a widget conversation) the channel signed,
    when it was given, and when withdrawn (« STOP »)."""

    __tablename__ = "notice_consents"

    id = Column(Integer, primary_key=True)
    customer_id = Column(ForeignKey("customers.customer_id"), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    address = Column(String(254), nullable=False, index=True)
    conversation_id = Column(String(200), nullable=False)
    given_at = Column(UtcDateTime, nullable=False)
    withdrawn_at = Column(UtcDateTime)


class Notice(Base):
    """One message to tell a customer, unprompted, written in the same transaction as what
    it tells. "queued" → "sending" (leased by the notifier until `next_attempt_at`) →
    "delivered" (on the channel, or by e-mail/SMS when `delivered_by` says "fallback_..."),
    or back to "queued" later after a failure, "failed" after the last attempt, "withdrawn"
    when the consent was. `dedup_key` (claim + event + value) makes each one once."""

    __tablename__ = "notices"

    id = Column(Integer, primary_key=True)
    dedup_key = Column(String(200), nullable=False, unique=True)
    customer_id = Column(ForeignKey("customers.customer_id"), nullable=False, index=True)
    consent_id = Column(ForeignKey("notice_consents.id"), nullable=False, index=True)
    kind = Column(String(40), nullable=False)  # claim_event | reminder_... (the caller's)
    claim_number = Column(String(15))
    event = Column(String(30))  # opened | expert_visit_set | expert_visit_moved | ...
    channel = Column(String(40), nullable=False)
    address = Column(String(254), nullable=False)
    conversation_id = Column(String(200), nullable=False)
    text = Column(Text, nullable=False)
    template_parameters = Column(Text, nullable=False)  # JSON list of strings
    status = Column(String(20), nullable=False, index=True)
    attempts = Column(Integer, nullable=False, default=0, server_default="0")
    next_attempt_at = Column(UtcDateTime)
    created_at = Column(UtcDateTime, nullable=False)
    delivered_at = Column(UtcDateTime)
    delivered_by = Column(String(20))  # channel | fallback_email | fallback_sms
    last_error = Column(String(200))
