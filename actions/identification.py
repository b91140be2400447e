"""Identification of the customer from the espace-client token."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common.identity import (
    customer_id_from_token,
    identified_customer,
    identity_events,
    message_auth_token,
    token_secret,
)

REFUSAL_RESPONSE = "utter_session_token_refused"


class ActionIdentifyFromToken(Action):
    """Runs after every user message (custom slot mapping): a valid token identifies
    the customer, an invalid one is refused and the conversation goes on anonymously."""

    def name(self) -> Text:
        return "action_identify_from_token"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        token = message_auth_token(tracker)
        if token is None:
            return []
        customer_id = customer_id_from_token(token, token_secret())
        if customer_id is None and not _already_told_refusal(tracker):
            dispatcher.utter_message(response=REFUSAL_RESPONSE)
        if customer_id == identified_customer(tracker):
            return []
        return identity_events(tracker, customer_id)


def _already_told_refusal(tracker: Tracker) -> bool:
    """Whether the customer was told in this session that their token was refused."""
    return any(
        event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == REFUSAL_RESPONSE
        for event in tracker.events_after_latest_restart()
    )
