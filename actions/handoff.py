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
from actions.services import IdentityRefused, ServiceError, services

logger = logging.getLogger(__name__)

# Advisers answer from Monday to Friday, 8:30 to 18:00, and on Saturday 9:00 to 12:00.
OFFICE_HOURS = {
    0: (dt.time(8, 30), dt.time(18, 0)),
    1: (dt.time(8, 30), dt.time(18, 0)),
    2: (dt.time(8, 30), dt.time(18, 0)),
    3: (dt.time(8, 30), dt.time(18, 0)),
    4: (dt.time(8, 30), dt.time(18, 0)),
    5: (dt.time(9, 0), dt.time(12, 0)),
}
SUMMARY_MESSAGES = 10
SUMMARY_MESSAGE_LENGTH = 300
# Requests offered as « Vouliez-vous dire … ? » when the NLU hesitated between them.
SUGGESTIONS = 2
SUGGESTION_MIN_CONFIDENCE = 0.15


def now_in_paris() -> dt.datetime:
    return dt.datetime.now(PARIS)


def in_office_hours(moment: dt.datetime) -> bool:
    hours = OFFICE_HOURS.get(moment.weekday())
    return hours is not None and hours[0] <= moment.time() < hours[1]


def conversation_summary(events: List[Dict[str, Any]]) -> str:
    """What the customer said last, for the adviser who takes over."""
    said = [
        f"- {(event.get('text') or '')[:SUMMARY_MESSAGE_LENGTH]}"
        for event in events
        if event.get("event") == "user" and event.get("text")
    ]
    return "Derniers messages du client :\n" + "\n".join(said[-SUMMARY_MESSAGES:])


class ActionHandoff(Action):
    """In office hours, files a hand-off with a summary; otherwise gives the channels."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not in_office_hours(now_in_paris()):
            dispatcher.utter_message(response="utter_handoff_closed")
            dispatcher.utter_message(response="utter_human_contacts")
            return []
        summary = conversation_summary(tracker.events)
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
            return []
        # On the phone, the `ivr` variant is a transfer to the advisers' line with this context.
        dispatcher.utter_message(response="utter_handoff_filed", reference=handoff["reference"], summary=summary)
        return []


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
    """The requests the NLU ranked highest for a message it did not understand."""
    ranking = (parse_data or {}).get("intent_ranking") or []
    return [
        candidate["name"]
        for candidate in ranking
        if candidate.get("name") in REQUEST_TITLES and (candidate.get("confidence") or 0) >= SUGGESTION_MIN_CONFIDENCE
    ][:SUGGESTIONS]


def misunderstandings_in_a_row(events: List[Dict[str, Any]]) -> int:
    count = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        if intent_of(event.get("parse_data")) != "nlu_fallback":
            break
        count += 1
    return count
