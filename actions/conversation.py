"""Conversation-wide actions: session start and repeating the last answer."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common.messages import latest_intent
from core.masking import MARKERS
from core.slots import session_start_events


class ActionSessionStart(Action):
    """Starts a new session keeping what the customer gave in a procedure, but not
    their identity: a new session must identify again (shared computers, expired tokens)."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        return session_start_events(tracker.slots)


class ActionRepeatLastAnswer(Action):
    """Says again what the assistant said just before the customer asked to repeat."""

    def name(self) -> Text:
        return "action_repeat_last_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        for message in last_bot_turn(tracker.events_after_latest_restart()):
            data = message.get("data") or {}
            text = message.get("text") or ""
            if MARKERS["token"] in text:
                # A download link is stored without its secret: it cannot be given twice.
                dispatcher.utter_message(response="utter_link_not_repeated")
                continue
            dispatcher.utter_message(text=text, buttons=data.get("buttons") or [])
        return []


def last_bot_turn(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The bot messages between the last two user messages (the answer to repeat)."""
    user_messages_seen = 0
    turn: List[Dict[str, Any]] = []
    for event in reversed(events):
        if event.get("event") == "user":
            user_messages_seen += 1
            if user_messages_seen == 2:
                break
        elif event.get("event") == "bot" and user_messages_seen == 1:
            turn.insert(0, event)
    return turn


# Questions answered in the middle of a procedure, which then goes on.
QUESTION_RESPONSES = {
    "contact_info": "utter_contact_info",
    "document_retention": "utter_document_retention",
    "complaint": "utter_complaint",
    "data_privacy": "utter_data_privacy",
    "bot_challenge": "utter_iamabot",
    "ask_capabilities": "utter_capabilities_in_procedure",
}


class ActionAnswerQuestion(Action):
    """Answers a general question asked in the middle of a form (a digression)."""

    def name(self) -> Text:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        intent = latest_intent(tracker)
        dispatcher.utter_message(response=QUESTION_RESPONSES.get(intent, "utter_default"))
        return []
