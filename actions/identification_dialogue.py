"""Identification in the dialogue (spec §5): customer id and date of birth, then a
six-digit code sent by SMS to the phone on file. When the channel verified the
customer's phone number (`channel_phone` in the message metadata), that number
replaces the customer id; on the telephone line it suffices with the date of birth,
on the number as the line signed it (`channel_phone_assertion`), passed on as it came.
No answer tells whether a customer id exists or a birth date is right: the code is
« sent if the information is right », and a wrong birth date shows as a wrong code.
The policy service counts wrong answers per conversation and per source (the client's
address or platform user, reserved metadata `client_source` set by the channels) and
locks identification for 15 minutes after three (docs/identification.md)."""

import hashlib
import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.common.identity import identified_customer, identity_events, message_channel_phone
from actions.common.messages import last_user_event, latest_intent
from actions.common.refusals import (
    CHANNEL_ASSERTION_REFUSALS,
    CODE_CHECK,
    IDENTIFICATION_LOCKED,
    IDENTIFICATION_UNAVAILABLE,
    IDENTITY_CHECK,
    PHONE_IDENTITY_CHECK,
    refusal_response,
)
from core import clock
from core.next_request import serve_first
from core.parsing.dates import resolve_french_date
from core.parsing.identifiers import find_customer_id
from core.service_client import ServiceRefusal, ServiceUnavailable, services
from core.service_contract import ErrorCode, IdentityVerified
from core.slots import (
    IDENTIFICATION_BIRTH_DATE,
    IDENTIFICATION_BY_CUSTOMER_ID,
    IDENTIFICATION_CODE,
    IDENTIFICATION_CUSTOMER_ID,
    IDENTIFICATION_SLOTS,
    PENDING_REQUEST,
)

# Stored instead of the birth date and the code: they are checked, not kept.
CHECKED = "vérifié"
logger = logging.getLogger(__name__)

# Input channel of the telephone line: the caller's number and the birth date suffice.
TELEPHONE_CHANNEL = "ivr"
# Its caller's number signed by the line (reserved metadata, core/channel_assertion.py), and
# the policy service's refusals of it.
CHANNEL_PHONE_ASSERTION = "channel_phone_assertion"
# The longest source the policy service takes; a longer one is passed as its hash.
MAX_SOURCE_LENGTH = 255

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
    # C (issue 18): simulations on the customer's contracts, and alerts.
    "simulate_contract_change": "action_simulate_contract_change",
    "set_alert": "action_set_alert",
    "list_alerts": "action_list_alerts",
    "cancel_alert": "action_cancel_alert",
    # Files sent before identification: kept in pending_documents, attached now.
    "attach_document": "action_receive_documents",
}
# Requests served again once identified, as a new message of the customer's: the files'
# message is not (its files are kept apart, in pending_documents).
SERVED_AGAIN = frozenset(RESUMED_ACTIONS) - {"attach_document"}


def _stop_identification(dispatcher: CollectingDispatcher, response: Text, **values: Any) -> Dict[Text, Any]:
    """Ends the form without identification (locked, or the service is down)."""
    dispatcher.utter_message(response=response, **values)
    return {**dict.fromkeys(IDENTIFICATION_SLOTS), "requested_slot": None}


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

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if _phone_to_match(tracker) is None:
            return domain_slots
        slots = [slot for slot in domain_slots if slot != IDENTIFICATION_CUSTOMER_ID]
        if tracker.get_latest_input_channel() == TELEPHONE_CHANNEL:
            slots.remove(IDENTIFICATION_CODE)
        return slots

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[EventType]:
        if tracker.active_loop_name == self.form_name() and tracker.get_slot(REQUESTED_SLOT) is None:
            return None  # a validation stopped the form (locked, service down)
        return await super().next_requested_slot(dispatcher, tracker, domain)

    async def validate_identification_birth_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = value if isinstance(value, str) else ""
        birth_date = resolve_french_date(text, clock.today())
        phone = _phone_to_match(tracker)
        typed_customer_id = find_customer_id(text) if birth_date is None and phone is not None else None
        if typed_customer_id:
            # The customer gives the customer id instead (another phone number on file).
            return {IDENTIFICATION_BY_CUSTOMER_ID: True, IDENTIFICATION_CUSTOMER_ID: typed_customer_id,
                    IDENTIFICATION_BIRTH_DATE: None}
        if birth_date is None or birth_date >= clock.today():
            dispatcher.utter_message(response="utter_identification_birth_date_invalid")
            return {IDENTIFICATION_BIRTH_DATE: None}
        if phone is not None:
            return await self._check_phone(phone, birth_date.isoformat(), dispatcher, tracker)
        customer_id = tracker.get_slot(IDENTIFICATION_CUSTOMER_ID)
        try:
            check = await services().start_identity_check(customer_id, birth_date.isoformat(), **_asked(tracker))
        except ServiceUnavailable:
            return _stop_identification(dispatcher, "utter_identification_unavailable")
        except ServiceRefusal as refusal:
            return _stop_identification(dispatcher, refusal_response(IDENTITY_CHECK, refusal.code))
        # The same answer whether the customer exists and the date is right or not.
        dispatcher.utter_message(response="utter_identification_code_sent")
        return {IDENTIFICATION_BIRTH_DATE: CHECKED, "identification_check_id": check.check_id}

    @staticmethod
    async def _check_phone(
        phone: str, birth_date: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[Text, Any]:
        """Birth date of the customer whose phone on file is the channel's number."""
        telephone = tracker.get_latest_input_channel() == TELEPHONE_CHANNEL
        signed = _message_metadata(tracker).get(CHANNEL_PHONE_ASSERTION) if telephone else None
        try:
            check = await services().start_phone_identity_check(
                phone, birth_date, not telephone, **_asked(tracker),
                channel_assertion=signed if isinstance(signed, str) else None)
        except ServiceUnavailable:
            return _stop_identification(dispatcher, "utter_identification_unavailable")
        except ServiceRefusal as refusal:
            response = refusal_response(PHONE_IDENTITY_CHECK, refusal.code)
            if refusal.code in CHANNEL_ASSERTION_REFUSALS:
                # Not the caller's answer: the line's signature is missing or refused (its secret
                # is not the policy service's).
                logger.warning("the policy service refused the telephone line's signed number: %s", refusal.code)
            if response in (IDENTIFICATION_LOCKED, IDENTIFICATION_UNAVAILABLE):
                return _stop_identification(dispatcher, response)
            dispatcher.utter_message(response=response)
            if refusal.code == ErrorCode.identity_ambiguous:  # the customer id tells them apart
                return {IDENTIFICATION_BY_CUSTOMER_ID: True, IDENTIFICATION_BIRTH_DATE: None}
            # Telephone line: an unknown number is answered like a wrong birth date.
            return {IDENTIFICATION_BIRTH_DATE: None}
        if isinstance(check, IdentityVerified):  # telephone line: identified without a code
            dispatcher.utter_message(response="utter_identification_done")
            identity = {event["name"]: event["value"]
                        for event in identity_events(tracker, check.customer_id, check.identity_assertion)}
            return {**identity, IDENTIFICATION_BIRTH_DATE: CHECKED}
        # The channel's own number, masked: the same answer whether anything matched or not.
        dispatcher.utter_message(response="utter_identification_code_sent_to_phone", sent_to=check.sent_to)
        return {IDENTIFICATION_BIRTH_DATE: CHECKED, "identification_check_id": check.check_id}

    async def validate_identification_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = value if isinstance(value, str) else ""
        code = re.sub(r"\D", "", text)
        if len(code) != 6:
            return await self._answer_again(text, dispatcher, tracker, domain)
        try:
            verified = await services().verify_identity_check(
                tracker.get_slot("identification_check_id"), code, **_asked(tracker))
        except ServiceUnavailable:
            return _stop_identification(dispatcher, "utter_identification_unavailable")
        except ServiceRefusal as refusal:
            return self._refused_code(refusal, dispatcher)
        dispatcher.utter_message(response="utter_identification_done")
        identity = {event["name"]: event["value"]
                    for event in identity_events(tracker, verified.customer_id, verified.identity_assertion)}
        return {**identity, "identification_code": CHECKED}

    async def _answer_again(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Instead of the code (none came, maybe: a wrong birth date or customer id sends
        none), the customer gives the birth date or the customer id again."""
        birth_date = resolve_french_date(text, clock.today())
        if birth_date is not None:
            started = await self.validate_identification_birth_date(text, dispatcher, tracker, domain)
            return {**started, IDENTIFICATION_CODE: None}
        customer_id = find_customer_id(text)
        if customer_id is not None:
            return {IDENTIFICATION_BY_CUSTOMER_ID: True, IDENTIFICATION_CUSTOMER_ID: customer_id,
                    IDENTIFICATION_BIRTH_DATE: None, IDENTIFICATION_CODE: None, "identification_check_id": None}
        dispatcher.utter_message(response="utter_identification_code_invalid")
        return {IDENTIFICATION_CODE: None}

    @staticmethod
    def _refused_code(refusal: ServiceRefusal, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        response = refusal_response(CODE_CHECK, refusal.code)
        if response == IDENTIFICATION_LOCKED:
            return _stop_identification(dispatcher, response)
        dispatcher.utter_message(response=response)
        if refusal.code == ErrorCode.wrong_code:
            return {"identification_code": None}
        # Expired or replaced: a new code needs the birth date again.
        return {"identification_code": None, "identification_birth_date": None, "identification_check_id": None}


def _message_metadata(tracker: Tracker) -> Dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def _asked(tracker: Tracker) -> Dict[str, Any]:
    """Where the answer comes from, as the policy service counts wrong answers: the
    conversation, its channel, and its source when the channel gave one."""
    source = _message_metadata(tracker).get("client_source")
    if not isinstance(source, str) or not source:
        source = None
    elif len(source) > MAX_SOURCE_LENGTH:
        source = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
    return {"conversation_id": tracker.sender_id, "channel": tracker.get_latest_input_channel() or "inconnu",
            "source": source}


def _phone_to_match(tracker: Tracker) -> Optional[str]:
    """The channel's verified phone number, unless the customer identifies with the customer id."""
    if tracker.get_slot(IDENTIFICATION_BY_CUSTOMER_ID):
        return None
    return message_channel_phone(tracker)


class ActionRememberRequest(Action):
    """Notes what the customer asked for before being asked to identify."""

    def name(self) -> Text:
        return "action_remember_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = latest_intent(tracker)
        by_phone = message_channel_phone(tracker) is not None
        dispatcher.utter_message(response="utter_identification_intro_phone" if by_phone else "utter_identification_intro")
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
        asked = last_user_event(tracker, {request})
        if request in SERVED_AGAIN and asked is not None:
            # Served again as the customer asked it (bot/two_requests.py): the
            # rules of an identified customer's request apply, each with its end, where an
            # action run here as a follow-up left the dialogue with no next step (a fallback,
            # which undid the identification with the customer's answer).
            return events + [serve_first(tracker, request, asked)]
        if request == "declare_claim":
            dispatcher.utter_message(response="utter_claim_intro")
        return events + [FollowupAction(RESUMED_ACTIONS.get(request, "action_listen"))]
