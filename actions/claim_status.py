"""Claim follow-up: where a claim stands, the expert's visit, what was paid."""

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common.identity import identified_customer
from actions.common.labels import CLAIM_TYPE_LABELS, date_label, euros, time_label
from actions.parsing.identifiers import find_claim_number
from actions.services import NotFound, ServiceUnavailable, services

logger = logging.getLogger(__name__)

Claim = Dict[str, Any]
MAX_CLAIMS_SHOWN = 5
PHASE_RESPONSES = {
    "declaration": "utter_claim_phase_declaration",
    "ouverture": "utter_claim_phase_ouverture",
    "expertise": "utter_claim_phase_expertise",
    "indemnisation": "utter_claim_phase_indemnisation",
    "cloture": "utter_claim_phase_cloture",
}


def claim_values(claim: Claim) -> Dict[str, str]:
    """The variables of the claim responses."""
    return {
        "claim_number": claim["claim_number"],
        "claim_type_label": CLAIM_TYPE_LABELS.get(claim["claim_type"], claim["claim_type"]),
        "date_label": date_label(claim["occurred_on"]),
        "contract_number": claim["contract_number"],
        "amount_paid": euros(claim.get("amount_paid_eur")),
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
        customer_id = identified_customer(tracker)
        named = _claim_number_named(tracker)
        try:
            if named:
                claims = [await services().get_claim(customer_id, named)]
            else:
                claims = await services().list_claims(customer_id)
        except NotFound:
            dispatcher.utter_message(response="utter_claim_not_found", claim_number=named)
            return []
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_claims_unavailable")
            return []
        if not claims:
            dispatcher.utter_message(response="utter_no_claims")
            return []
        # « mon dossier de dégât des eaux »: the claims of that type, when there are some.
        claim_types = set(tracker.get_latest_entity_values("claim_type"))
        claims = [c for c in claims if c["claim_type"] in claim_types] or claims
        claims = sorted(claims, key=lambda claim: not self.told_first(claim))
        for claim in claims[:MAX_CLAIMS_SHOWN]:
            self.answer(dispatcher, claim)
        return []


def _claim_number_named(tracker: Tracker) -> Optional[str]:
    entity = next(tracker.get_latest_entity_values("claim_number"), None)
    return find_claim_number(entity or tracker.latest_message.get("text") or "")


def _say_expert_visit(dispatcher: CollectingDispatcher, claim: Claim) -> None:
    appointment = claim.get("expert_appointment")
    if appointment:
        dispatcher.utter_message(
            response="utter_expert_visit_planned",
            claim_number=claim["claim_number"],
            visit_date_label=date_label(appointment),
            visit_time_label=time_label(appointment),
        )
    else:
        dispatcher.utter_message(response="utter_expert_visit_not_planned", claim_number=claim["claim_number"])


class ActionClaimStatus(_ClaimFollowUpAction):
    def name(self) -> Text:
        return "action_claim_status"

    def answer(self, dispatcher: CollectingDispatcher, claim: Claim) -> None:
        dispatcher.utter_message(response=PHASE_RESPONSES[claim["phase"]], **claim_values(claim))
        if claim["phase"] == "expertise":
            _say_expert_visit(dispatcher, claim)


class ActionExpertVisit(_ClaimFollowUpAction):
    def name(self) -> Text:
        return "action_expert_visit"

    def told_first(self, claim: Claim) -> bool:
        return bool(claim.get("expert_appointment"))

    def answer(self, dispatcher: CollectingDispatcher, claim: Claim) -> None:
        if claim["phase"] in ("declaration", "ouverture", "expertise"):
            _say_expert_visit(dispatcher, claim)
        else:
            dispatcher.utter_message(response="utter_expert_visit_over", **claim_values(claim))


class ActionIndemnificationInfo(_ClaimFollowUpAction):
    def name(self) -> Text:
        return "action_indemnification_info"

    def answer(self, dispatcher: CollectingDispatcher, claim: Claim) -> None:
        closed = claim["phase"] == "cloture"
        response = "utter_indemnification_closed" if closed else "utter_indemnification_in_progress"
        dispatcher.utter_message(response=response, **claim_values(claim))

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_indemnification_rules")
        return events
