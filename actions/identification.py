"""Identification of the customer from the espace-client token."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common.identity import (
    customer_id_from_token,
    identified_customer,
    identity_events,
    message_auth_token,
    token_secret,
)
from actions.common.slots import SESSION_TOKEN_REFUSED

class ActionIdentifyFromToken(Action):
    """Runs after every user message (custom slot mapping): a valid token identifies
    the customer, an invalid one is refused and the conversation goes on anonymously.

    Rasa keeps only slot events of slot-mapping actions, so the refusal is a slot:
    the answers that need an identity say why they cannot use the token."""

    def name(self) -> Text:
        return "action_identify_from_token"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        token = message_auth_token(tracker)
        if token is None:
            return []
        customer_id = customer_id_from_token(token, token_secret())
        refused = customer_id is None
        events: List[EventType] = []
        if tracker.get_slot(SESSION_TOKEN_REFUSED) != refused:
            events.append(SlotSet(SESSION_TOKEN_REFUSED, refused))
        if customer_id != identified_customer(tracker):
            events += identity_events(tracker, customer_id)
        return events
