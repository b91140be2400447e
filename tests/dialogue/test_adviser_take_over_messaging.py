"""An adviser takes over a WhatsApp and a Telegram conversation, against the real stack and
the local fake platform API: the customer's messages are the platforms' webhooks, the
adviser's words reach the platform's API addressed to that customer, the assistant is silent
meanwhile and answers again after the close."""

import time

import pytest
import requests

from connectors.messaging import pseudonym
from tests.dialogue.conftest import TELEGRAM_SECRET_TOKEN, WHATSAPP_APP_SECRET
from tests.dialogue.test_adviser_take_over import ADVISER, call
from tests.dialogue.test_telegram_conversation import KARIM_CHAT_ID, TelegramUser
from tests.dialogue.test_whatsapp_conversation import MARIE_WA_ID, WhatsAppUser

GREETING = "assistant virtuel"


def customers(rasa_stack, messaging_platform):
    return {
        "whatsapp": (WhatsAppUser(rasa_stack, messaging_platform),
                     pseudonym(WHATSAPP_APP_SECRET, "whatsapp", MARIE_WA_ID)),
        "telegram": (TelegramUser(rasa_stack, messaging_platform),
                     pseudonym(TELEGRAM_SECRET_TOKEN, "telegram", str(KARIM_CHAT_ID))),
    }


def silent_after(user, text: str, seconds: float = 3.0) -> bool:
    """Sends `text`; True when nothing answers it within `seconds`."""
    before = len(user.replies())
    body, headers = user.webhook({"type": "text", "text": {"body": text}} if isinstance(user, WhatsAppUser)
                                 else {"message": user._message(text=text)})
    assert requests.post(user.url, data=body, headers={"Content-Type": "application/json", **headers},
                         timeout=10).status_code == 200
    time.sleep(seconds)
    return len(user.replies()) == before


@pytest.mark.parametrize("platform", ["whatsapp", "telegram"])
def test_an_adviser_talks_with_a_messaging_app_customer_then_gives_the_conversation_back(
        rasa_stack, messaging_platform, platform):
    user, conversation = customers(rasa_stack, messaging_platform)[platform]
    user.say("bonjour", expect=GREETING)

    before = len(user.replies())
    assert call(rasa_stack, conversation, "take").json() == {"paused": True}
    messaging_platform.wait_for(lambda: ADVISER in user.text_of(user.replies()[before:]))

    # The assistant is silent: the customer's words are for the adviser, stored for the console.
    assert silent_after(user, "j'ai une question sur ma franchise")
    said = [(m["from"], m["text"]) for m in call(rasa_stack, conversation, grant_token="read").json()["messages"]]
    assert ("customer", "j'ai une question sur ma franchise") in said

    before = len(user.replies())
    sent = call(rasa_stack, conversation, "messages", json={"text": "Votre franchise est de 300 euros."})
    assert sent.status_code == 200 and sent.json() == {"delivered": True}
    messaging_platform.wait_for(lambda: "Votre franchise est de 300 euros." in user.text_of(user.replies()[before:]))

    assert call(rasa_stack, conversation, "close").json() == {"paused": False}
    user.say("bonjour", expect=GREETING)  # the assistant answers again
