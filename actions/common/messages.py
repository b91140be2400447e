"""Reading the customer's messages from the tracker: intents and earlier requests."""

from typing import Any, Collection, Dict, Optional

from rasa_sdk import Tracker


def intent_of(parse_data: Optional[Dict[str, Any]]) -> Optional[str]:
    """The intent name of a message's parse data (a user event's or the latest message)."""
    return ((parse_data or {}).get("intent") or {}).get("name")


def latest_intent(tracker: Tracker) -> Optional[str]:
    return intent_of(tracker.latest_message)


def last_user_event(tracker: Tracker, intents: Collection[str]) -> Optional[Dict[str, Any]]:
    """The last user message whose intent is one of `intents`."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and intent_of(event.get("parse_data")) in intents:
            return event
    return None


def request_message(tracker: Tracker, request_intent: str) -> Dict[str, Any]:
    """The last user message of intent `request_intent` (the request, even when
    identification came in between), else the latest message."""
    event = last_user_event(tracker, {request_intent})
    if event is None:
        return tracker.latest_message or {}
    return {"text": event.get("text") or "", **(event.get("parse_data") or {})}


def request_text(tracker: Tracker, request_intent: str) -> str:
    return request_message(tracker, request_intent).get("text") or ""
