"""Identification of the customer from the espace-client token, verified by the policy service."""

import time
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common.identity import (
    assertion_seconds_left,
    identified_customer,
    identity_events,
    message_auth_token,
    token_claims,
)
from core.service_client import NotFound, ServiceRefusal, ServiceUnavailable, services
from core.service_contract import ErrorCode
from core.slots import AUTHENTICATED_CUSTOMER_ID, SESSION_CUSTOMER_UNKNOWN, SESSION_TOKEN_REFUSED

# An assertion this close to its expiry is renewed with the next token that comes.
RENEW_BEFORE_SECONDS = 300


def token_needs_checking(tracker: Tracker, token: Any, now: Optional[float] = None) -> bool:
    """Whether the token must go to the policy service: unless the conversation already holds
    an assertion, far from its expiry, for the customer this token names and while the token
    says it is valid. (What the token says is read unverified: it only spares a call when
    the identity it would give is already proven; anything else is checked.)"""
    now = time.time() if now is None else now
    identity = identified_customer(tracker)
    if identity is None or assertion_seconds_left(tracker, now) <= RENEW_BEFORE_SECONDS:
        return True
    claims = token_claims(token)
    expires = claims.get("exp")
    return claims.get("sub") != identity or not isinstance(expires, (int, float)) or expires <= now


class ActionIdentifyFromToken(Action):
    """Runs after every user message (custom slot mapping): a valid token identifies
    the customer, an invalid one is refused and the conversation goes on anonymously;
    a valid token of a customer the insurer does not know identifies nobody either.

    Rasa keeps only slot events of slot-mapping actions, so the refusals are slots:
    the answers that need an identity say why they cannot use the token."""

    def name(self) -> Text:
        return "action_identify_from_token"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        token = message_auth_token(tracker)
        if token is None or not token_needs_checking(tracker, token):
            return []
        customer_id: Optional[str] = None
        assertion: Optional[str] = None
        refused = unknown = False
        try:
            if not isinstance(token, str):
                raise ServiceRefusal(400, ErrorCode.session_token_invalid, "")
            verified = await services().check_session_token(
                token, tracker.sender_id, tracker.get_latest_input_channel() or "inconnu")
            customer_id, assertion = verified.customer_id, verified.identity_assertion
        except ServiceUnavailable:
            return []  # what is proven stays so; the token is checked with the next message
        except NotFound:
            unknown = True
        except ServiceRefusal:
            refused = True
        events: List[EventType] = []
        for slot, value in ((SESSION_TOKEN_REFUSED, refused), (SESSION_CUSTOMER_UNKNOWN, unknown)):
            if tracker.get_slot(slot) != value:
                events.append(SlotSet(slot, value))
        if customer_id is not None or tracker.get_slot(AUTHENTICATED_CUSTOMER_ID) is not None:
            events += identity_events(tracker, customer_id, assertion)
        return events
