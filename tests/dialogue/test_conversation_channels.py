"""A conversation belongs to its channel (spec §5), with the real stack: a customer
identified on the phone, in the widget or on a messaging app is not identified for a REST
client that names their conversation, whatever form of its id the client tries (the
channel's own id, the stored conversation id, the platform user's number or account id)."""

import json
import random
import time
import uuid
from typing import Any, Dict, List, Tuple

import pytest
import requests

from connectors.guard import conversation_id
from connectors.messaging import pseudonym
from connectors.rest import unguessable_sender
from devtools.espace_client import issue_session_token
from tests.connectors.fake_platform import meta_signed
from tests.dialogue.conftest import (
    MESSENGER_APP_SECRET,
    TELEGRAM_BOT_TOKEN,
    TELEGRAM_SECRET_TOKEN,
    WHATSAPP_APP_SECRET,
    WHATSAPP_PHONE_NUMBER_ID,
)
from tests.dialogue.messaging_user import MessagingUser, unique_id
from tests.dialogue.test_ivr_calls import PhoneCall, heard
from tests.dialogue.widget_client import WidgetClient, texts
from tests.reference_services.helpers import latest_code, new_customer

MARIE, MARIE_CONTRACTS = "10000001", ("AUT-482913", "HAB-120034")


def assert_a_stranger_on_rest(rasa_stack, sender: str, *secrets: str) -> None:
    """The REST client `sender` asks for the identified customer's contracts: it is asked to
    identify, gets nothing of theirs, and its conversation is its own; or, for a sender
    anyone could guess (a phone number...), it is refused outright."""
    reply = requests.post(f"{rasa_stack.url}/webhooks/rest/webhook", timeout=30,
                          json={"sender": sender, "message": "quels sont mes contrats ?"})
    if reply.status_code == 400:
        assert not unguessable_sender(sender) and "deviner" in reply.json()["error"]["message"], sender
        return
    reply.raise_for_status()
    answer = texts(reply.json())
    assert not any(secret in answer for secret in secrets), (sender, answer)
    tracker = rasa_stack.tracker(sender)
    assert tracker["sender_id"] == conversation_id("rest", sender)
    assert tracker["slots"]["customer_identified"] is False, sender
    assert tracker["slots"]["authenticated_customer_id"] is None, sender


# --- the phone line --------------------------------------------------------------------


def test_an_identity_established_on_the_phone_is_not_usable_from_rest(rasa_stack):
    call = PhoneCall(rasa_stack)
    call.event("start", caller="+33612345678")
    assert "date de naissance" in heard(call.say("je veux déclarer un sinistre"))
    assert "identité est vérifiée" in heard(call.say("le douze mars mille neuf cent quatre-vingt-cinq"))
    assert rasa_stack.tracker(call.call_id, "ivr")["slots"]["customer_identified"] is True

    for sender in (f"ivr-{call.call_id}", f"ivr:{call.call_id}", call.call_id, "+33612345678"):
        assert_a_stranger_on_rest(rasa_stack, sender, *MARIE_CONTRACTS, "Marie", "Dupont")
    # The call itself goes on, still identified.
    assert rasa_stack.tracker(call.call_id, "ivr")["slots"]["customer_identified"] is True


# --- the widget ------------------------------------------------------------------------


def test_an_identity_established_in_the_widget_is_not_usable_from_rest(rasa_stack):
    client = WidgetClient(rasa_stack.url)
    try:
        client.open(auth_token=issue_session_token(MARIE, rasa_stack.jwt_secret))
        assert any(contract in texts(client.say("quels sont mes contrats ?")) for contract in MARIE_CONTRACTS)
    finally:
        client.close()

    for sender in (client.session_id, f"widget:{client.session_id}"):
        assert_a_stranger_on_rest(rasa_stack, sender, *MARIE_CONTRACTS, "Marie", "Dupont")


# --- the messaging apps ----------------------------------------------------------------


class WhatsAppCustomer(MessagingUser):
    """A customer writing from their WhatsApp number, which WhatsApp verified."""

    platform_name, verified_number = "whatsapp", True

    def __init__(self, stack, platform, customer: Dict[str, str]) -> None:
        super().__init__(platform)
        self.url = f"{stack.url}/webhooks/whatsapp/webhook"
        self.user_id = customer["phone"].lstrip("+")
        self.secret = WHATSAPP_APP_SECRET

    def webhook(self, text: str) -> Tuple[bytes, Dict[str, str]]:
        message = {"from": self.user_id, "id": f"wamid.test{unique_id()}", "timestamp": str(int(time.time())),
                   "type": "text", "text": {"body": text}}
        return meta_signed({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp", "metadata": {"phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Client"}, "wa_id": self.user_id}], "messages": [message]}}]}]},
            WHATSAPP_APP_SECRET)

    def replies(self) -> List[Dict[str, Any]]:
        return [c.json for c in self.platform.sent(f"/{WHATSAPP_PHONE_NUMBER_ID}/messages")
                if c.json.get("to") == self.user_id]

    def text_of(self, replies: List[Dict[str, Any]]) -> str:
        return "\n".join(reply.get("text", {}).get("body") or reply.get("interactive", {}).get("body", {}).get("text", "")
                         for reply in replies)


class TelegramCustomer(MessagingUser):
    """A customer in a private chat with the bot (no verified number)."""

    platform_name, verified_number = "telegram", False

    def __init__(self, stack, platform, customer: Dict[str, str]) -> None:
        super().__init__(platform)
        self.url = f"{stack.url}/webhooks/telegram/webhook"
        self.chat_id = random.randrange(10 ** 8, 10 ** 9)
        self.user_id = str(self.chat_id)
        self.secret = TELEGRAM_SECRET_TOKEN

    def webhook(self, text: str) -> Tuple[bytes, Dict[str, str]]:
        user = {"id": self.chat_id, "is_bot": False, "first_name": "Client"}
        update = {"update_id": unique_id(), "message": {
            "message_id": unique_id(), "from": user, "chat": {"id": self.chat_id, "type": "private"},
            "date": int(time.time()), "text": text}}
        return json.dumps(update).encode(), {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET_TOKEN}

    def replies(self) -> List[Dict[str, Any]]:
        return [c.json for c in self.platform.sent(f"/bot{TELEGRAM_BOT_TOKEN}/sendMessage")
                if c.json.get("chat_id") == self.chat_id]

    def text_of(self, replies: List[Dict[str, Any]]) -> str:
        return "\n".join(reply["text"] for reply in replies)


class MessengerCustomer(MessagingUser):
    """A customer writing to the insurer's page (no verified number)."""

    platform_name, verified_number = "messenger", False

    def __init__(self, stack, platform, customer: Dict[str, str]) -> None:
        super().__init__(platform)
        self.url = f"{stack.url}/webhooks/messenger/webhook"
        self.user_id = str(random.randrange(10 ** 15, 10 ** 16))
        self.secret = MESSENGER_APP_SECRET

    def webhook(self, text: str) -> Tuple[bytes, Dict[str, str]]:
        event = {"sender": {"id": self.user_id}, "recipient": {"id": "104729384756123"},
                 "timestamp": int(time.time() * 1000), "message": {"mid": f"m_{unique_id()}", "text": text}}
        return meta_signed({"object": "page", "entry": [{"id": "104729384756123", "time": int(time.time() * 1000),
                                                          "messaging": [event]}]}, MESSENGER_APP_SECRET)

    def replies(self) -> List[Dict[str, Any]]:
        return [c.json["message"] for c in self.platform.sent("/v21.0/me/messages") if "message" in c.json
                if c.json.get("recipient", {}).get("id") == self.user_id]

    def text_of(self, replies: List[Dict[str, Any]]) -> str:
        return "\n".join(reply.get("text", "") for reply in replies)


def identify(user: MessagingUser, services, customer: Dict[str, str]) -> None:
    """The customer identifies in the dialogue: customer id (unless the app verified their
    number), date of birth, then the code sent by SMS."""
    year, month, day = customer["birth_date"].split("-")
    if user.verified_number:
        user.send("je veux déclarer un sinistre", expect="date de naissance")
    else:
        user.send("je veux déclarer un sinistre", expect="identifiant client")
        user.send(customer["customer_id"], expect="date de naissance")
    user.send(f"{day}/{month}/{year}", expect="code")
    assert "identité est vérifiée" in user.text_of(user.send(latest_code(services, customer["phone"]),
                                                             expect="type de sinistre"))


@pytest.mark.parametrize("app", [WhatsAppCustomer, TelegramCustomer, MessengerCustomer],
                         ids=["whatsapp", "telegram", "messenger"])
def test_an_identity_established_on_a_messaging_app_is_not_usable_from_rest(rasa_stack, services,
                                                                             messaging_platform, app):
    customer = new_customer(services)
    user = app(rasa_stack, messaging_platform, customer)
    identify(user, services, customer)
    conversation = pseudonym(user.secret, user.platform_name, user.user_id)
    assert rasa_stack.tracker(conversation.partition(":")[2], user.platform_name)["slots"]["customer_identified"]

    digest = conversation.partition(":")[2]
    for sender in (user.user_id, customer["phone"], conversation, f"{user.platform_name}-{digest}", digest):
        assert_a_stranger_on_rest(rasa_stack, sender, customer["customer_id"], customer["email"])


@pytest.mark.parametrize("form", ["ivr:{}", "widget:{}", "whatsapp:{}", "rest:{}"])
def test_a_rest_sender_is_a_rest_conversation_whatever_it_looks_like(rasa_stack, form):
    sender = form.format(uuid.uuid4().hex)
    assert all(message["recipient_id"] == sender for message in rasa_stack.say(sender, "bonjour"))
    tracker = rasa_stack.tracker(sender)
    assert tracker["sender_id"] == f"rest:{sender}"
    assert [event["text"] for event in tracker["events"] if event["event"] == "user"] == ["bonjour"]
