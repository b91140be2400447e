"""What the forms that read free words share."""
from rasa_sdk import Tracker


def answers_this_turn(tracker: Tracker, form: str) -> bool:
    """True when `form` runs right after the customer spoke, False when it comes back
    after answering a question in between (that message was read already)."""
    seen_form = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "action":
            if not seen_form and event.get("name") == form:
                seen_form = True
                continue
            return event.get("name") in ("action_listen", "action_extract_slots")
    return True
