"""Data-protection requests and retention (`python -m operations.cli privacy ...`).

- `export`: everything about one customer, as JSON: what the services hold, and
  the conversations where they were identified (as stored: masked).
- `erase`: what the law does not require to keep. Deleted: the conversations, the
  copies of the e-mails and SMS sent to them, their one-time codes and the count
  of codes sent to them lately, the attestations generated (they can be issued again)
  and the hand-offs (summaries of conversations), the claim notices and the consents to
  them (the addresses given, the texts told). Kept: the customer record, the
  contracts, the claims with their documents, and the change requests, which the
  insurer must keep for the life of the contracts and the limitation periods that
  follow (Code des assurances L114-1; GDPR art. 17(3)(b) and (e)): see `KEPT`.
- `purge`: the retention period (`CONVERSATION_RETENTION_DAYS`, default 90 days)
  for conversations, for the services' copies of the messages sent and the
  one-time codes, which only serve a few minutes; a day for the identification
  counters (docs/identification.md). The files sent but never attached
  to a claim have a retention of their own, a day, and the claims service, which
  holds them, deletes them itself (reference_services/claims/retention.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Dict, List

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from bot.conversations import ConversationStore
from core.clock import isoformat_paris, now_utc
from core.masking import mask_personal_data
from reference_services.claims.models import Claim
from reference_services.claims.serializers import claim_json
from reference_services.notices.models import Notice, NoticeConsent
from reference_services.policy.models import (
    CodeBudget,
    Contract,
    Customer,
    CustomerRequest,
    GeneratedDocument,
    Handoff,
    IdentificationCounter,
    OneTimeCode,
    OutboxMessage,
)
from reference_services.policy.serializers import contract_json, customer_json, iso_date

KEPT = {
    "customer": "fiche client : contrats en cours ou prescription non écoulée",
    "contracts": "contrats : durée du contrat puis prescription (Code des assurances L114-1)",
    "claims": "sinistres et leurs pièces : jusqu'à prescription des recours",
    "requests": "demandes de modification des contrats : preuve des engagements pris",
}


class UnknownCustomer(LookupError):
    """No customer has this id."""


@dataclass
class PrivacyRequests:
    """One customer's data in the services' database and the conversation store."""

    session: Session
    conversations: ConversationStore

    def export(self, customer_id: str) -> Dict[str, Any]:
        customer = self._customer(customer_id)
        senders = self.conversations.conversations_of(customer_id)
        stored = self.conversations.events(senders)
        budgets = self._all(CodeBudget, CodeBudget.customer_id == customer_id)
        return {
            "customer_id": customer_id,
            "exported_at": isoformat_paris(now_utc()),
            "customer": customer_json(customer),
            "contracts": [contract_json(c) for c in self._all(Contract, Contract.customer_id == customer_id)],
            "claims": [claim_json(c) for c in self._all(Claim, Claim.customer_id == customer_id)],
            "requests": [_request_json(r) for r in self._all(CustomerRequest, CustomerRequest.customer_id == customer_id)],
            "handoffs": [_handoff_json(h) for h in self._all(Handoff, Handoff.customer_id == customer_id)],
            "attestations": [_document_json(d) for d in self._all(GeneratedDocument, GeneratedDocument.customer_id == customer_id)],
            "messages_sent": [_message_json(m) for m in self._all(OutboxMessage, _to_customer(customer))],
            # Wrong answers are counted per conversation and per source, never per
            # customer: what is kept about the customer is the SMS codes sent lately.
            "identification": {
                "codes_sent_in_the_last_day": sum(b.codes_this_day for b in budgets
                                                  if b.day_started_at > now_utc() - timedelta(days=1)),
            },
            "conversations": [{"conversation_id": s, "events": stored[s]} for s in senders],
            # Claim notices (issue 15): where the customer agreed to be told, and what was told.
            "notice_consents": [_consent_json(c) for c in self._all(NoticeConsent, NoticeConsent.customer_id == customer_id)],
            "notices": [_notice_json(n) for n in self._all(Notice, Notice.customer_id == customer_id)],
        }

    def erase(self, customer_id: str) -> Dict[str, Any]:
        customer = self._customer(customer_id)
        senders = self.conversations.conversations_of(customer_id)
        erased = {
            "conversations": len(senders),
            "conversation_events": self.conversations.delete(senders),
            "messages_sent": self._delete(OutboxMessage, _to_customer(customer)),
            "one_time_codes": self._delete(OneTimeCode, OneTimeCode.customer_id == customer_id),
            "identification_code_budgets": self._delete(CodeBudget, CodeBudget.customer_id == customer_id),
            "attestations": self._delete(GeneratedDocument, GeneratedDocument.customer_id == customer_id),
            "handoffs": self._delete(Handoff, Handoff.customer_id == customer_id),
            # Claim notices: their texts and the addresses the customer gave (issue 15).
            "notices": self._delete(Notice, Notice.customer_id == customer_id),
            "notice_consents": self._delete(NoticeConsent, NoticeConsent.customer_id == customer_id),
        }
        self.session.commit()
        return {"customer_id": customer_id, "erased": erased, "kept": KEPT}

    def purge(self, retention_days: int) -> Dict[str, int]:
        cutoff = now_utc() - timedelta(days=retention_days)
        purged = self.conversations.purge(cutoff.timestamp())
        purged["messages_sent_deleted"] = self._delete(OutboxMessage, OutboxMessage.created_at < cutoff)
        purged["one_time_codes_deleted"] = self._delete(OneTimeCode, OneTimeCode.created_at < cutoff)
        # Claim notices told (or dropped): copies of messages sent, like the outbox's.
        purged["notices_deleted"] = self._delete(Notice, and_(
            Notice.created_at < cutoff, Notice.status.in_(("delivered", "failed", "withdrawn"))))
        # Identification counters and code budgets only matter for a day.
        day_ago = now_utc() - timedelta(days=1)
        purged["identification_counters_deleted"] = self._delete(IdentificationCounter, and_(
            IdentificationCounter.updated_at < day_ago,
            or_(IdentificationCounter.locked_until.is_(None), IdentificationCounter.locked_until < now_utc()),
        )) + self._delete(CodeBudget, CodeBudget.day_started_at < day_ago)
        self.session.commit()
        return purged

    def _customer(self, customer_id: str) -> Customer:
        customer = self.session.get(Customer, customer_id)
        if customer is None:
            raise UnknownCustomer(customer_id)
        return customer

    def _all(self, model: Any, condition: Any) -> List[Any]:
        return list(self.session.execute(select(model).where(condition)).scalars())

    def _delete(self, model: Any, condition: Any) -> int:
        return self.session.execute(delete(model).where(condition)).rowcount


def _to_customer(customer: Customer) -> Any:
    return or_(OutboxMessage.recipient == customer.email, OutboxMessage.recipient == customer.phone)


def _request_json(request: CustomerRequest) -> Dict[str, Any]:
    return {"reference": request.reference, "kind": request.kind, "contract_number": request.contract_number,
            "details": request.details, "status": request.status,
            "expected_by": iso_date(request.expected_by), "created_at": isoformat_paris(request.created_at)}


def _handoff_json(handoff: Handoff) -> Dict[str, Any]:
    return {"reference": handoff.reference, "channel": handoff.channel, "reason": handoff.reason,
            "summary": handoff.summary, "status": handoff.status, "created_at": isoformat_paris(handoff.created_at)}


def _document_json(document: GeneratedDocument) -> Dict[str, Any]:
    return {"reference": document.reference, "contract_number": document.contract_number,
            "kind": document.kind, "valid_from": iso_date(document.valid_from),
            "valid_to": iso_date(document.valid_to), "created_at": isoformat_paris(document.created_at)}


def _message_json(message: OutboxMessage) -> Dict[str, Any]:
    """A message sent, without the codes and links it carried (still valid, maybe)."""
    return {"channel": message.channel, "recipient": message.recipient, "subject": message.subject,
            "body": mask_personal_data(message.body), "created_at": isoformat_paris(message.created_at)}


def _consent_json(consent: NoticeConsent) -> Dict[str, Any]:
    return {"channel": consent.channel, "address": consent.address,
            "given_at": isoformat_paris(consent.given_at), "withdrawn_at": isoformat_paris(consent.withdrawn_at)}


def _notice_json(notice: Notice) -> Dict[str, Any]:
    return {"channel": notice.channel, "claim_number": notice.claim_number, "event": notice.event,
            "text": notice.text, "status": notice.status, "created_at": isoformat_paris(notice.created_at),
            "delivered_at": isoformat_paris(notice.delivered_at)}
