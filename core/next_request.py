"""Requests waiting to be served as the customer's next message (slot `next_request`,
served by the Rasa server: bot/two_requests.py)."""

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from core.slots import NEXT_REQUEST


def waiting_requests(value: Any) -> List[Dict[str, Any]]:
    """The requests waiting, in the order they will be served."""
    if isinstance(value, dict):  # one request
        value = [value]
    return [request for request in value or [] if isinstance(request, dict)] if isinstance(value, list) else []


def serve_first(tracker: Tracker, intent: str, message: Dict[str, Any]) -> SlotSet:
    """`message` (a user event or parse data) to be served again at once, as typed, before
    any request still waiting; `announce` false: the customer just asked it."""
    parse_data = message.get("parse_data") or message
    request = {"intent": intent, "text": message.get("text") or "", "entities": parse_data.get("entities") or [],
               "announce": False}
    return SlotSet(NEXT_REQUEST, [request, *waiting_requests(tracker.get_slot(NEXT_REQUEST))])
