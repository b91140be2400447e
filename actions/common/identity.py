"""The espace-client session token (spec §5): a JWT signed HS256, sub = customer_id, with exp."""

import logging
import os
import re
from typing import Any, Dict, List, Optional

import jwt
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common.slots import (
    AUTHENTICATED_CUSTOMER_ID,
    CUSTOMER_IDENTIFIED,
    CUSTOMER_PROCEDURE_SLOTS,
    PROCEDURE_OWNER,
)

logger = logging.getLogger(__name__)

_CUSTOMER_ID = re.compile(r"^\d{8}$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def customer_id_from_token(token: Any, secret: str) -> Optional[str]:
    """The customer id of a valid token; None when forged, expired, malformed or unsigned."""
    if not isinstance(token, str) or not secret:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as error:
        logger.info("espace-client token refused: %s", type(error).__name__)
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and _CUSTOMER_ID.match(subject) else None


def token_secret() -> str:
    return os.environ.get("ESPACE_CLIENT_JWT_SECRET", "")


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
    return phone if isinstance(phone, str) and _E164.match(phone) else None


def identified_customer(tracker: Tracker) -> Optional[str]:
    """The customer id established by identification, or None for an anonymous user."""
    return tracker.get_slot(AUTHENTICATED_CUSTOMER_ID)


def identity_events(tracker: Tracker, customer_id: Optional[str]) -> List[EventType]:
    """Slot events that make `customer_id` (None: nobody) the identified customer.

    Procedure slots that belong to someone else are dropped on the way.
    """
    events: List[EventType] = [
        SlotSet(AUTHENTICATED_CUSTOMER_ID, customer_id),
        SlotSet(CUSTOMER_IDENTIFIED, customer_id is not None),
    ]
    owner = tracker.get_slot(PROCEDURE_OWNER)
    if customer_id is not None and owner != customer_id:
        if owner is not None:
            events += [SlotSet(slot, None) for slot in CUSTOMER_PROCEDURE_SLOTS]
        events.append(SlotSet(PROCEDURE_OWNER, customer_id))
    return events
