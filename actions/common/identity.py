"""Who the customer is, as the actions know it: the customer id established by
identification and the identity assertion the policy service issued for it, which
every call about that customer carries (core/service_client.py). The action server
never verifies a session token itself: the policy service does (spec §5)."""

import base64
import json
import logging
import re
import time
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from core.service_client import CustomerIdentity
from core.slots import (
    AUTHENTICATED_CUSTOMER_ID,
    CUSTOMER_IDENTIFIED,
    CUSTOMER_PROCEDURE_SLOTS,
    IDENTITY_ASSERTION,
    PROCEDURE_OWNER,
)

logger = logging.getLogger(__name__)

_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
IDENTITY_EXPIRED_RESPONSE = "utter_identity_expired"


def token_claims(token: Any) -> Dict[str, Any]:
    """The claims of a JWT, read WITHOUT checking its signature ({} when unreadable): only
    to tell whether a token is worth sending to the policy service, or which conversation
    an assertion was issued for. What they say is never trusted for anything else."""
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 8192:
        return {}
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def message_auth_token(tracker: Tracker) -> Optional[Any]:
    """The token sent with the latest message, if any (REST metadata or socket.io custom data)."""
    metadata: Dict[str, Any] = (tracker.latest_message or {}).get("metadata") or {}
    return metadata.get("auth_token") if isinstance(metadata, dict) else None


def message_channel_phone(tracker: Tracker) -> Optional[str]:
    """The phone number (E.164) the channel verified for the latest message, if any.

    Only connectors set `channel_phone` (the messaging app's account number, the
    caller's number); the REST channel drops it from client metadata."""
    metadata: Dict[str, Any] = (tracker.latest_message or {}).get("metadata") or {}
    phone = metadata.get("channel_phone") if isinstance(metadata, dict) else None
    return phone if isinstance(phone, str) and _E164.fullmatch(phone) else None


def identified_customer(tracker: Tracker) -> Optional[CustomerIdentity]:
    """The identified customer with their identity assertion, or None for an anonymous user.

    An assertion issued for another conversation is not this conversation's identity."""
    customer_id = tracker.get_slot(AUTHENTICATED_CUSTOMER_ID)
    if customer_id is None:
        return None
    assertion = tracker.get_slot(IDENTITY_ASSERTION)
    claims = token_claims(assertion)
    if claims.get("sub") != customer_id or claims.get("conversation_id") != tracker.sender_id:
        assertion = None  # the services' refusal then asks the customer to identify again
    return CustomerIdentity(customer_id, assertion)


def assertion_seconds_left(tracker: Tracker, now: Optional[float] = None) -> float:
    """How long the conversation's identity assertion is still valid (0: none)."""
    identity = identified_customer(tracker)
    if identity is None or identity.assertion is None:
        return 0.0
    expires = token_claims(identity.assertion).get("exp")
    if not isinstance(expires, (int, float)):
        return 0.0
    return max(0.0, expires - (time.time() if now is None else now))


def identity_events(tracker: Tracker, customer_id: Optional[str], assertion: Optional[str] = None) -> List[EventType]:
    """Slot events that make `customer_id` (None: nobody), proven by `assertion`, the
    identified customer.

    Procedure slots that belong to someone else are dropped on the way.
    """
    events: List[EventType] = [
        SlotSet(AUTHENTICATED_CUSTOMER_ID, None if customer_id is None else str(customer_id)),
        SlotSet(CUSTOMER_IDENTIFIED, customer_id is not None),
        SlotSet(IDENTITY_ASSERTION, assertion if customer_id is not None else None),
    ]
    owner = tracker.get_slot(PROCEDURE_OWNER)
    if customer_id is not None and owner != customer_id:
        if owner is not None:
            events += [SlotSet(slot, None) for slot in CUSTOMER_PROCEDURE_SLOTS]
        events.append(SlotSet(PROCEDURE_OWNER, str(customer_id)))
    return events


def identity_refused_answer(action_call: Dict[str, Any]) -> Dict[str, Any]:
    """The action server's answer to any action whose call a service refused for the
    identity assertion (expired, mostly): the identity is dropped and the customer asked
    to identify again. Outside a form nothing else runs; inside one, the form goes on
    (its questions need no identity) and the next call about the customer asks again."""
    events: List[Dict[str, Any]] = [
        {"event": "slot", "name": AUTHENTICATED_CUSTOMER_ID, "value": None},
        {"event": "slot", "name": CUSTOMER_IDENTIFIED, "value": False},
        {"event": "slot", "name": IDENTITY_ASSERTION, "value": None},
    ]
    if not str(action_call.get("next_action") or "").startswith("validate_"):
        events.append({"event": "followup", "name": "action_listen"})
    said = _said_since_the_customers_message((action_call.get("tracker") or {}).get("events") or [])
    responses = [] if IDENTITY_EXPIRED_RESPONSE in said else [{"response": IDENTITY_EXPIRED_RESPONSE}]
    return {"events": events, "responses": responses}


def _said_since_the_customers_message(events: List[Dict[str, Any]]) -> List[str]:
    """The responses given since the customer's last message (a form may meet the refusal
    twice in one turn: its check of the answer, then its next question)."""
    said: List[str] = []
    for event in reversed(events):
        if not isinstance(event, dict) or event.get("event") == "user":
            break
        if event.get("event") == "bot":
            said.append(str((event.get("metadata") or {}).get("utter_action")))
    return said
