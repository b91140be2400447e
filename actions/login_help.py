"""Login help: what the assistant does for an identified customer (send the e-mails)."""

import logging
from abc import ABC, abstractmethod
from typing import Awaitable, Callable, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common.identity import identified_customer
from core.service_client import ServiceError, ServicesClient, services
from core.service_contract import SentTo

logger = logging.getLogger(__name__)


class _SendEmailAction(Action, ABC):
    """Puts one e-mail of the policy service in the outbox and says where it went.
    Abstract, so that rasa-sdk does not register it as an action."""

    sent_response: Text

    @abstractmethod
    def name(self) -> Text:
        ...

    @abstractmethod
    def send(self, client: ServicesClient) -> Callable[[str], Awaitable[SentTo]]:
        """The client's call that sends this e-mail."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer_id = identified_customer(tracker)
        if customer_id is None:
            dispatcher.utter_message(response="utter_identification_required")
            return []
        try:
            sent = await self.send(services())(customer_id)
        except ServiceError as error:
            logger.warning("%s failed: %s", self.name(), type(error).__name__)
            dispatcher.utter_message(response="utter_login_action_failed")
            return []
        dispatcher.utter_message(response=self.sent_response, sent_to=sent.sent_to)
        return []


class ActionSendPasswordReset(_SendEmailAction):
    sent_response = "utter_password_reset_sent"

    def name(self) -> Text:
        return "action_send_password_reset"

    def send(self, client: ServicesClient) -> Callable[[str], Awaitable[SentTo]]:
        return client.send_password_reset


class ActionSendIdentifierReminder(_SendEmailAction):
    sent_response = "utter_identifier_reminder_sent"

    def name(self) -> Text:
        return "action_send_identifier_reminder"

    def send(self, client: ServicesClient) -> Callable[[str], Awaitable[SentTo]]:
        return client.send_identifier_reminder
