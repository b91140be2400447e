"""Plain helpers for action tests: trackers as Rasa sends them, tokens, event readers."""

from typing import Any, Dict, Iterable, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from core.service_client import CustomerIdentity
from devtools.espace_client import issue_session_token
from tests.conftest import TEST_ESPACE_CLIENT_JWT_SECRET, identity_assertion

JWT_SECRET = TEST_ESPACE_CLIENT_JWT_SECRET
MARIE, KARIM, SOPHIE = "10000001", "10000002", "10000003"
# The conversation of make_tracker's trackers.
CONVERSATION = "test-conversation"


def espace_client_token(customer_id: str, secret: str = JWT_SECRET, minutes: int = 30) -> str:
    return issue_session_token(customer_id, secret, minutes)


def slot_event(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def make_tracker(
    domain: Dict[str, Any],
    slots: Optional[Dict[str, Any]] = None,
    text: str = "",
    intent: Optional[str] = None,
    entities: Iterable[Dict[str, Any]] = (),
    metadata: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
    sender_id: str = CONVERSATION,
) -> Tracker:
    """A tracker as the action server receives it: every domain slot, the latest message,
    and `events` (SlotSet events at the end are the candidates forms validate); in
    `sender_id`'s conversation (identification tests: one of their own, since the policy
    service counts wrong answers per conversation)."""
    all_slots = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
    all_slots.update(slots or {})
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": list(entities),
        "metadata": metadata or {},
    }
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}}, *(events or [])],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def identified(customer_id: str, **slots: Any) -> Dict[str, Any]:
    """Slots of a customer identified in make_tracker's conversation, with the identity
    assertion the test services take."""
    return {"authenticated_customer_id": customer_id, "customer_identified": True, "procedure_owner": customer_id,
            "identity_assertion": identity_assertion(customer_id, conversation_id=CONVERSATION), **slots}


def as_identified(customer_id: str) -> CustomerIdentity:
    """The customer as the actions hold them once identified in make_tracker's conversation."""
    return CustomerIdentity(customer_id, identity_assertion(customer_id, conversation_id=CONVERSATION))


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    return [message.get("response") for message in dispatcher.messages]


def slot_sets(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


def entity(name: str, value: str) -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": 0}


