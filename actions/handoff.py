"""Hand-off to a human adviser: on request, and offered after two misunderstandings in a row."""

import datetime as dt
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common.identity import identified_customer
from actions.common.messages import intent_of
from actions.common.words import response_text
from core.clock import PARIS
from core.labels import REQUESTS, request_title_response
from core.office_hours import office_hours
from core.parsing.contacts import is_email, masked_contact, read_contact
from core.service_client import IdentityRefused, ServiceError, services
from core.service_contract import HandoffCreated
from core.slots import HANDOFF_CONTACT

logger = logging.getLogger(__name__)

SUMMARY_MESSAGES = 10
SUMMARY_MESSAGE_LENGTH = 300
# Requests offered as « Vouliez-vous dire … ? » when the NLU hesitated between them.
SUGGESTIONS = 2
SUGGESTION_MIN_CONFIDENCE = 0.15
# The last button of « Vouliez-vous dire … ? »: none of those.
SOMETHING_ELSE_BUTTON = "utter_button_something_else"
REQUESTED_SLOT = "requested_slot"


def now_in_paris() -> dt.datetime:
    return dt.datetime.now(PARIS)


def in_office_hours(moment: dt.datetime) -> bool:
    """Whether advisers answer at `moment` (OFFICE_HOURS)."""
    return office_hours().open_at(moment)


def conversation_summary(events: List[Dict[str, Any]]) -> str:
    """What the customer said last, for the adviser who takes over."""
    said = [
        f"- {(event.get('text') or '')[:SUMMARY_MESSAGE_LENGTH]}"
        for event in events
        if event.get("event") == "user" and event.get("text")
    ]
    return "Derniers messages du client :\n" + "\n".join(said[-SUMMARY_MESSAGES:])


# The read-back of the hand-off, answered « oui » (action_file_handoff) or « non ».
CONFIRM_HANDOFF_RESPONSE = "utter_confirm_handoff"
TELEPHONE_CHANNEL = "ivr"
# The channels an adviser can write to later, from the console (bot/advisers.py): the
# widget's socket and the messaging apps. On the others (the REST channel answers only
# the request it is sent) nobody could answer « ici », so no live conversation is promised.
LIVE_CHANNELS = frozenset({"widget", "whatsapp", "telegram", "messenger"})
# An anonymous visitor when no adviser is free: where to call them back, asked before any
# promise (handoff_contact_form); the slot says the rules to start the form.
HANDOFF_CONTACT_NEEDED = "handoff_contact_needed"
HANDOFF_CONTACT_FORM = "handoff_contact_form"
REASON = "demande du client"


class ActionHandoff(Action):
    """Out of office hours, gives the hours and the channels that take a request meanwhile,
    never the closed phone line as an immediate answer. In office hours, reads back the
    summary an adviser will get and waits for the customer's yes (action_file_handoff);
    on the phone, or in the middle of a procedure whose question stays open, the hand-off
    is made at once (a procedure's question open, an anonymous visitor whom no adviser
    can answer now is given the advisers' line and written channels instead)."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not in_office_hours(now_in_paris()):
            dispatcher.utter_message(response="utter_handoff_closed", opening_hours=office_hours().label())
            return []
        if tracker.get_latest_input_channel() != TELEPHONE_CHANNEL and not tracker.active_loop_name:
            dispatcher.utter_message(response=CONFIRM_HANDOFF_RESPONSE, summary=conversation_summary(tracker.events))
            return []
        if not await hand_over(dispatcher, tracker, list(tracker.events)):
            dispatcher.utter_message(response="utter_human_contacts")
        return []


class ActionFileHandoff(Action):
    """The customer said yes to the hand-off's read-back: it is made (hand_over), or an
    anonymous visitor whom no adviser can answer now is asked where to be called back."""

    def name(self) -> Text:
        return "action_file_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if last_response(tracker.events) != CONFIRM_HANDOFF_RESPONSE or not in_office_hours(now_in_paris()):
            dispatcher.utter_message(response="utter_anything_else")
            return []
        if await hand_over(dispatcher, tracker, read_back_events(tracker.events)):
            return [SlotSet(HANDOFF_CONTACT_NEEDED, None)]
        dispatcher.utter_message(response="utter_handoff_no_adviser_now")
        return [SlotSet(HANDOFF_CONTACT, None), SlotSet(HANDOFF_CONTACT_NEEDED, True)]


class ValidateHandoffContactForm(FormValidationAction):
    """A French phone number or an e-mail address, found in the answer as written."""

    def name(self) -> Text:
        return "validate_handoff_contact_form"

    async def validate_handoff_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        contact = read_contact(value)
        if contact is None:
            dispatcher.utter_message(response="utter_handoff_contact_invalid")
        return {HANDOFF_CONTACT: contact}


class ActionFileHandoffCallback(Action):
    """The visitor said where to be called back: the hand-off is filed with it, and the
    call-back promised on the number or address they gave, read back masked."""

    def name(self) -> Text:
        return "action_file_handoff_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        contact = tracker.get_slot(HANDOFF_CONTACT)
        forget = [SlotSet(HANDOFF_CONTACT, None), SlotSet(HANDOFF_CONTACT_NEEDED, None)]
        if not contact:
            dispatcher.utter_message(response="utter_anything_else")
            return forget
        handoff = await file_handoff(dispatcher, tracker, read_back_events(tracker.events), contact=contact)
        if handoff is not None:
            response = "utter_handoff_callback_email" if is_email(contact) else "utter_handoff_callback_phone"
            dispatcher.utter_message(response=response, reference=handoff.reference, contact=masked_contact(contact))
        return forget


class ActionCancelHandoffContact(Action):
    """« non », « laissez tomber » instead of a call-back number: nothing is sent."""

    def name(self) -> Text:
        return "action_cancel_handoff_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_handoff_not_sent")
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), SlotSet(HANDOFF_CONTACT, None),
                SlotSet(HANDOFF_CONTACT_NEEDED, None)]


def last_response(events: List[Dict[str, Any]]) -> Any:
    """The response the assistant gave last before the customer's latest message."""
    seen_user = False
    for event in reversed(events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif event.get("event") == "bot" and seen_user:
            return (event.get("metadata") or {}).get("utter_action")
    return None


def read_back_events(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The conversation as it was read back to the customer: up to their answer to the
    last read-back (neither their « oui » nor the call-back number they gave after it)."""
    read_back = max((index for index, event in enumerate(events) if event.get("event") == "bot"
                     and (event.get("metadata") or {}).get("utter_action") == CONFIRM_HANDOFF_RESPONSE), default=None)
    if read_back is None:
        return list(events)
    answer = next((index for index in range(read_back, len(events)) if events[index].get("event") == "user"),
                  len(events))
    return list(events[:answer])


async def advisers_available() -> bool:
    """Whether an adviser is at the console now; a service that does not answer: none."""
    try:
        return await services().advisers_available() > 0
    except ServiceError as error:
        logger.warning("advisers' availability unknown: %s", type(error).__name__)
        return False


async def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, events: List[Dict[str, Any]]) -> bool:
    """Files the hand-off and says what happens next, when that can be promised: on the
    phone a transfer to the advisers' line; where an adviser can answer in this
    conversation and one is at the console, that they will in a few moments; to an
    identified customer, a call-back on the details on file. False (nothing filed, nothing
    said) for an anonymous visitor whom no adviser can answer now."""
    channel = tracker.get_latest_input_channel()
    if channel == TELEPHONE_CHANNEL:
        # The `ivr` variant transfers the call to the advisers' line with the reference.
        response = "utter_handoff_filed"
    elif channel in LIVE_CHANNELS and await advisers_available():
        response = "utter_handoff_live"
    elif identified_customer(tracker) is not None:
        response = "utter_handoff_filed"
    else:
        return False
    handoff = await file_handoff(dispatcher, tracker, events)
    if handoff is not None:
        dispatcher.utter_message(response=response, reference=handoff.reference)
    return True


async def file_handoff(dispatcher: CollectingDispatcher, tracker: Tracker, events: List[Dict[str, Any]],
                       contact: Optional[str] = None) -> Optional[HandoffCreated]:
    """Files the hand-off with the summary of `events` and the conversation itself, which
    an adviser may then read and answer in the advisers' console; None, the advisers'
    contacts given, when the policy service does not take it."""
    summary = conversation_summary(events)
    channel = tracker.get_latest_input_channel() or "inconnu"
    try:
        try:
            return await services().file_handoff(
                identified_customer(tracker), channel=channel, reason=REASON, summary=summary,
                conversation_id=tracker.sender_id, contact=contact)
        except IdentityRefused:
            # The identity expired meanwhile: the customer still reaches an adviser,
            # who then checks who they are.
            return await services().file_handoff(
                None, channel=channel, reason=REASON, summary=summary,
                conversation_id=tracker.sender_id, contact=contact)
    except ServiceError as error:
        logger.warning("hand-off not filed: %s", type(error).__name__)
        dispatcher.utter_message(response="utter_human_contacts")
        return None


class ActionHandleMisunderstanding(Action):
    """Two-stage fallback. First misunderstanding: « Vouliez-vous dire … ? » with the
    requests the NLU hesitated between (or a request to rephrase when it has no idea).
    Second in a row: offer an adviser."""

    def name(self) -> Text:
        return "action_handle_misunderstanding"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if misunderstandings_in_a_row(tracker.events) >= 2:
            dispatcher.utter_message(response="utter_offer_human")
            return []
        candidates = likely_requests(tracker.latest_message)
        if candidates:
            buttons = [{"title": response_text(domain, request_title_response(intent)), "payload": f"/{intent}"}
                       for intent in candidates]
            buttons.append({"title": response_text(domain, SOMETHING_ELSE_BUTTON), "payload": "/deny"})
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_default")
        return []


def likely_requests(parse_data: Dict[str, Any]) -> List[str]:
    """The two requests the NLU ranked highest for a message it did not understand, when
    the best one is likely enough. The runner-up comes with it whatever its score: a long
    message (a story, a complaint, then the request) spreads the scores over several
    requests, and two buttons serve the customer better than « je n'ai pas compris »."""
    ranking = (parse_data or {}).get("intent_ranking") or []
    requests = [candidate for candidate in ranking if candidate.get("name") in REQUESTS]
    if not requests or (requests[0].get("confidence") or 0) < SUGGESTION_MIN_CONFIDENCE:
        return []
    return [candidate["name"] for candidate in requests[:SUGGESTIONS]]


def misunderstandings_in_a_row(events: List[Dict[str, Any]]) -> int:
    count = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        if intent_of(event.get("parse_data")) != "nlu_fallback":
            break
        count += 1
    return count
