"""Hand-off to a human adviser: on request, and offered after two misunderstandings in a row."""

import datetime as dt
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common.clock import PARIS
from actions.common.identity import identified_customer
from actions.common.labels import REQUEST_TITLES
from actions.common.messages import intent_of
from actions.common.office_hours import office_hours
from actions.services import IdentityRefused, ServiceError, services

logger = logging.getLogger(__name__)

SUMMARY_MESSAGES = 10
SUMMARY_MESSAGE_LENGTH = 300
# Requests offered as « Vouliez-vous dire … ? » when the NLU hesitated between them.
SUGGESTIONS = 2
SUGGESTION_MIN_CONFIDENCE = 0.15


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


class ActionHandoff(Action):
    """Out of office hours, gives the hours and the channels that take a request meanwhile,
    never the closed phone line as an immediate answer. In office hours, reads back the
    summary an adviser will get and waits for the customer's yes (action_file_handoff);
    on the phone, or in the middle of a procedure whose question stays open, the caller
    is put through at once."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not in_office_hours(now_in_paris()):
            dispatcher.utter_message(response="utter_handoff_closed", opening_hours=office_hours().label())
            return []
        if tracker.get_latest_input_channel() != TELEPHONE_CHANNEL and not tracker.active_loop_name:
            dispatcher.utter_message(response=CONFIRM_HANDOFF_RESPONSE, summary=conversation_summary(tracker.events))
            return []
        await file_handoff(dispatcher, tracker)
        return []


class ActionFileHandoff(Action):
    """The customer said yes to the hand-off's read-back: it is filed."""

    def name(self) -> Text:
        return "action_file_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if last_response(tracker.events) != CONFIRM_HANDOFF_RESPONSE or not in_office_hours(now_in_paris()):
            dispatcher.utter_message(response="utter_anything_else")
            return []
        await file_handoff(dispatcher, tracker, before_latest_message=True)
        return []


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


async def file_handoff(dispatcher: CollectingDispatcher, tracker: Tracker, before_latest_message: bool = False) -> None:
    """Files the hand-off with the summary of the conversation (the one read back: without
    the customer's « oui » to it)."""
    events = list(tracker.events)
    if before_latest_message:
        latest = max((index for index, event in enumerate(events) if event.get("event") == "user"), default=len(events))
        events = events[:latest]
    summary = conversation_summary(events)
    channel = tracker.get_latest_input_channel() or "inconnu"
    try:
        try:
            handoff = await services().file_handoff(
                identified_customer(tracker), channel=channel, reason="demande du client", summary=summary)
        except IdentityRefused:
            # The identity expired meanwhile: the customer still reaches an adviser,
            # who then checks who they are.
            handoff = await services().file_handoff(
                None, channel=channel, reason="demande du client", summary=summary)
    except ServiceError as error:
        logger.warning("hand-off not filed: %s", type(error).__name__)
        dispatcher.utter_message(response="utter_human_contacts")
        return
    # On the phone, the `ivr` variant is a transfer to the advisers' line with this context.
    dispatcher.utter_message(response="utter_handoff_filed", reference=handoff["reference"], summary=summary)


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
            buttons = [{"title": REQUEST_TITLES[intent], "payload": f"/{intent}"} for intent in candidates]
            buttons.append({"title": "Autre chose", "payload": "/deny"})
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
    requests = [candidate for candidate in ranking if candidate.get("name") in REQUEST_TITLES]
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
