"""Reading the customer's messages from the tracker: intents and earlier requests."""

from typing import Any, Collection, Dict, Optional, Union

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


# The actions that note the request before the identification and carry on with it
# after (identification_dialogue.py).
REMEMBER_REQUEST_ACTION = "action_remember_request"
RESUME_REQUEST_ACTION = "action_resume_request"


def remembered_request(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The message the customer asked in before the latest identification (the user
    message right before action_remember_request), text and entities as they came."""
    remembered = False
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == REMEMBER_REQUEST_ACTION:
            remembered = True
        elif remembered and event.get("event") == "user":
            return event
    return None


def _resumed_this_turn(tracker: Tracker) -> bool:
    """Whether the request was resumed after the customer's latest message: that message
    was an answer to the identification, whatever its intent."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == RESUME_REQUEST_ACTION:
            return True
    return False


def request_message(tracker: Tracker, request_intent: Union[str, Collection[str]]) -> Dict[str, Any]:
    """The request of intent `request_intent` (or one of them) the customer is being
    answered: the one remembered through the identification when it just ended, else the
    latest message when it is one, else the last user message of that intent, else the
    latest message."""
    intents = {request_intent} if isinstance(request_intent, str) else set(request_intent)
    latest = tracker.latest_message or {}
    event = remembered_request(tracker) if _resumed_this_turn(tracker) else None
    if event is None or intent_of(event.get("parse_data")) not in intents:
        if intent_of(latest) in intents:
            return latest
        event = last_user_event(tracker, intents)
    if event is None:
        return latest
    return {**(event.get("parse_data") or {}), "text": event.get("text") or ""}


def request_text(tracker: Tracker, request_intent: Union[str, Collection[str]]) -> str:
    return request_message(tracker, request_intent).get("text") or ""
