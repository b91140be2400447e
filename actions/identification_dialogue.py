"""Identification in the dialogue (spec §5): customer id and date of birth, then a
six-digit code sent by SMS to the phone on file. The policy service counts wrong
answers and locks identification for 15 minutes after three."""

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import clock
from actions.common.identity import identified_customer, identity_events
from actions.common.messages import latest_intent
from actions.common.slots import IDENTIFICATION_SLOTS, PENDING_REQUEST
from actions.parsing.dates import resolve_french_date
from actions.parsing.identifiers import find_customer_id
from actions.services import ServiceRefusal, ServiceUnavailable, services

# Stored instead of the birth date and the code: they are checked, not kept.
CHECKED = "vérifié"

# What to do once identified, for each request that needed it.
RESUMED_ACTIONS = {
    "declare_claim": "claim_form",
    "request_attestation": "attestation_form",
    "claim_status": "action_claim_status",
    "expert_visit": "action_expert_visit",
    "indemnification_info": "action_indemnification_info",
    "contract_info": "action_contract_info",
    "payment_info": "action_payment_info",
    "bonus_malus": "action_bonus_malus",
    "beneficiary_clause": "action_beneficiary_clause",
    "change_payment_method": "action_start_change_request",
    "modify_coverage": "action_start_change_request",
    "update_personal_info": "action_start_change_request",
}


def _stop_identification(dispatcher: CollectingDispatcher, response: Text, **values: Any) -> Dict[Text, Any]:
    """Ends the form without identification (locked, or the service is down)."""
    dispatcher.utter_message(response=response, **values)
    return {**{slot: None for slot in IDENTIFICATION_SLOTS}, "requested_slot": None}


class ValidateIdentificationForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_identification_form"

    async def validate_identification_customer_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        customer_id = find_customer_id(value if isinstance(value, str) else "")
        if customer_id is None:
            dispatcher.utter_message(response="utter_identification_customer_id_invalid")
        return {"identification_customer_id": customer_id}

    async def validate_identification_birth_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        birth_date = resolve_french_date(value if isinstance(value, str) else "", clock.today())
        if birth_date is None or birth_date >= clock.today():
            dispatcher.utter_message(response="utter_identification_birth_date_invalid")
            return {"identification_birth_date": None}
        customer_id = tracker.get_slot("identification_customer_id")
        try:
            check = await services().start_identity_check(customer_id, birth_date.isoformat())
        except ServiceUnavailable:
            return _stop_identification(dispatcher, "utter_identification_unavailable")
        except ServiceRefusal as refusal:
            if refusal.code == "identification_locked":
                return _stop_identification(dispatcher, "utter_identification_locked")
            # An unknown customer id is answered like a wrong birth date: no hint either way.
            dispatcher.utter_message(response="utter_identification_mismatch")
            return {"identification_customer_id": None, "identification_birth_date": None}
        dispatcher.utter_message(response="utter_identification_code_sent", sent_to=check["sent_to"])
        return {"identification_birth_date": CHECKED, "identification_check_id": check["check_id"]}

    async def validate_identification_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        code = re.sub(r"\D", "", value if isinstance(value, str) else "")
        if len(code) != 6:
            dispatcher.utter_message(response="utter_identification_code_invalid")
            return {"identification_code": None}
        try:
            verified = await services().verify_identity_check(tracker.get_slot("identification_check_id"), code)
        except ServiceUnavailable:
            return _stop_identification(dispatcher, "utter_identification_unavailable")
        except ServiceRefusal as refusal:
            return self._refused_code(refusal, dispatcher)
        dispatcher.utter_message(response="utter_identification_done")
        identity = {event["name"]: event["value"] for event in identity_events(tracker, verified["customer_id"])}
        return {**identity, "identification_code": CHECKED}

    @staticmethod
    def _refused_code(refusal: ServiceRefusal, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        if refusal.code == "identification_locked":
            return _stop_identification(dispatcher, "utter_identification_locked")
        if refusal.code == "wrong_code":
            dispatcher.utter_message(response="utter_identification_wrong_code")
            return {"identification_code": None}
        # Expired or replaced: a new code needs the birth date again.
        dispatcher.utter_message(response="utter_identification_code_expired")
        return {"identification_code": None, "identification_birth_date": None, "identification_check_id": None}


class ActionRememberRequest(Action):
    """Notes what the customer asked for before being asked to identify."""

    def name(self) -> Text:
        return "action_remember_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = latest_intent(tracker)
        dispatcher.utter_message(response="utter_identification_intro")
        return [SlotSet(PENDING_REQUEST, intent)]


class ActionResumeRequest(Action):
    """After identification: forgets the answers given and carries on with the request."""

    def name(self) -> Text:
        return "action_resume_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[EventType] = [SlotSet(slot, None) for slot in IDENTIFICATION_SLOTS]
        events.append(SlotSet(PENDING_REQUEST, None))
        request: Optional[str] = tracker.get_slot(PENDING_REQUEST)
        if identified_customer(tracker) is None or request is None:
            return events
        if request == "declare_claim":
            dispatcher.utter_message(response="utter_claim_intro")
        return events + [FollowupAction(RESUMED_ACTIONS.get(request, "action_listen"))]
