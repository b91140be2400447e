"""Claim follow-up: where a claim stands, the expert's visit, what was paid."""

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common.contracts import entity_values
from actions.common.identity import identified_customer
from actions.common.messages import request_message
from core.labels import CLAIM_TYPE_LABELS, date_label, euros, time_label
from core.parsing.identifiers import ClaimReference, find_claim_reference
from core.service_client import ServiceUnavailable, services
from core.service_contract import Claim

logger = logging.getLogger(__name__)

MAX_CLAIMS_SHOWN = 5
# The questions about a claim: the request they answer may have come before the
# identification (« où en est le sin 2026 731 ? », then the customer id...).
FOLLOW_UP_INTENTS = ("claim_status", "expert_visit", "indemnification_info")
PHASE_RESPONSES = {
    "declaration": "utter_claim_phase_declaration",
    "ouverture": "utter_claim_phase_ouverture",
    "expertise": "utter_claim_phase_expertise",
    "indemnisation": "utter_claim_phase_indemnisation",
    "cloture": "utter_claim_phase_cloture",
}
# When more claims fit than are told, the ones being handled come first (an expert
# coming, money to be paid: the news a customer asking « où en est mon dossier » waits
# for), then the ones just declared, closed ones last; the most recent first within each.
PHASES_TOLD_FIRST = ("indemnisation", "expertise", "ouverture", "declaration", "cloture")


def claim_values(claim: Claim) -> Dict[str, str]:
    """The variables of the claim responses."""
    return {
        "claim_number": claim.claim_number,
        "claim_type_label": CLAIM_TYPE_LABELS.get(claim.claim_type, claim.claim_type.value),
        "date_label": date_label(claim.occurred_on),
        "contract_number": claim.contract_number,
        "amount_paid": euros(claim.amount_paid_eur),
    }


class _ClaimFollowUpAction(Action, ABC):
    """Finds the claims the customer means (the one named, else all of theirs) and
    answers about each. A claim number that is not the customer's is unknown.
    Abstract, so that rasa-sdk does not register it as an action."""

    @abstractmethod
    def name(self) -> Text:
        ...

    @abstractmethod
    def answer(self, dispatcher: CollectingDispatcher, claim: Claim) -> None:
        """Says what this action tells about one claim."""

    def told_first(self, claim: Claim) -> bool:
        """Whether a claim matters most for this question (told before the others)."""
        return False

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        request = request_message(tracker, FOLLOW_UP_INTENTS)
        named = claim_named(request)
        try:
            claims = await services().list_claims(identified_customer(tracker))
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_claims_unavailable")
            return []
        if named:
            # Matched among the customer's own claims only: another customer's number,
            # whole or partial, is answered as one that does not exist.
            claims = [c for c in claims if named.matches(c.claim_number)]
            if not claims:
                dispatcher.utter_message(response="utter_claim_not_found", claim_number=named.text)
                return []
        if not claims:
            dispatcher.utter_message(response="utter_no_claims")
            return []
        # « mon dossier de dégât des eaux »: the claims of that type, when there are some.
        claim_types = set(entity_values(request, "claim_type"))
        claims = [c for c in claims if c.claim_type in claim_types] or claims
        claims = sorted(claims, key=lambda claim: claim.occurred_on, reverse=True)
        claims = sorted(claims, key=lambda claim: (not self.told_first(claim), _phase_rank(claim)))
        for claim in claims[:MAX_CLAIMS_SHOWN]:
            self.answer(dispatcher, claim)
        return []


def _phase_rank(claim: Claim) -> int:
    phase = claim.phase
    return PHASES_TOLD_FIRST.index(phase) if phase in PHASES_TOLD_FIRST else len(PHASES_TOLD_FIRST)


def claim_named(message: Dict[str, Any]) -> Optional[ClaimReference]:
    """The claim a message names: its claim_number entity (canonical), else any way of
    writing it in the text (« SIN2026-731 », « dossier 000731 », « le 731 »)."""
    for value in entity_values(message, "claim_number"):
        reference = find_claim_reference(value)
        if reference:
            return reference
    return find_claim_reference(message.get("text") or "")


def _say_expert_visit(dispatcher: CollectingDispatcher, claim: Claim) -> None:
    appointment = claim.expert_appointment
    if appointment:
        dispatcher.utter_message(
            response="utter_expert_visit_planned",
            claim_number=claim.claim_number,
            visit_date_label=date_label(appointment),
            visit_time_label=time_label(appointment),
        )
    else:
        dispatcher.utter_message(response="utter_expert_visit_not_planned", claim_number=claim.claim_number)


class ActionClaimStatus(_ClaimFollowUpAction):
    def name(self) -> Text:
        return "action_claim_status"

    def answer(self, dispatcher: CollectingDispatcher, claim: Claim) -> None:
        dispatcher.utter_message(response=PHASE_RESPONSES[claim.phase], **claim_values(claim))
        if claim.phase == "expertise":
            _say_expert_visit(dispatcher, claim)


class ActionExpertVisit(_ClaimFollowUpAction):
    def name(self) -> Text:
        return "action_expert_visit"

    def told_first(self, claim: Claim) -> bool:
        return bool(claim.expert_appointment)

    def answer(self, dispatcher: CollectingDispatcher, claim: Claim) -> None:
        if claim.phase in ("declaration", "ouverture", "expertise"):
            _say_expert_visit(dispatcher, claim)
        else:
            dispatcher.utter_message(response="utter_expert_visit_over", **claim_values(claim))


class ActionIndemnificationInfo(_ClaimFollowUpAction):
    def name(self) -> Text:
        return "action_indemnification_info"

    def answer(self, dispatcher: CollectingDispatcher, claim: Claim) -> None:
        closed = claim.phase == "cloture"
        response = "utter_indemnification_closed" if closed else "utter_indemnification_in_progress"
        dispatcher.utter_message(response=response, **claim_values(claim))

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_indemnification_rules")
        return events
