"""A whole Telegram conversation with the real stack: Bot API updates in (with the webhook's
secret token), Bot API calls out (to the local fake platform API). Telegram gives no
verified phone number: the customer identifies with their customer id, birth date and SMS code."""

import json
import re
import time
from typing import Any, Dict, List, Tuple

from tests.bot.helpers import latest_code
from tests.connectors.fake_platform import telegram_file_path
from tests.dialogue.conftest import TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN
from tests.dialogue.messaging_user import MessagingUser, unique_id
from tests.sample_files import jpeg_bytes

KARIM, KARIM_PHONE = "10000002", "+33723456789"
KARIM_CHAT_ID = 584930217
BOT = {"id": 123456789, "is_bot": True, "first_name": "Oyat", "username": "oyat_assurances_bot"}


class TelegramUser(MessagingUser):
    """Karim in a private chat with the bot."""

    def __init__(self, stack, platform) -> None:
        super().__init__(platform)
        self.url = f"{stack.url}/webhooks/telegram/webhook"

    def webhook(self, update: Dict[str, Any]) -> Tuple[bytes, Dict[str, str]]:
        body = json.dumps({"update_id": unique_id(), **update}).encode()
        return body, {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET_TOKEN}

    def replies(self) -> List[Dict[str, Any]]:
        return [c.json for c in self.platform.sent(f"/bot{TELEGRAM_BOT_TOKEN}/sendMessage")
                if c.json.get("chat_id") == KARIM_CHAT_ID]

    def text_of(self, replies: List[Dict[str, Any]]) -> str:
        return "\n".join(reply["text"] for reply in replies)

    def say(self, text: str, expect: str) -> List[Dict[str, Any]]:
        return self.send({"message": self._message(text=text)}, expect)

    def send_photo(self, file_id: str, expect: str) -> List[Dict[str, Any]]:
        sizes = [{"file_id": f"{file_id}-{width}", "file_unique_id": f"u{width}", "width": width,
                  "height": width * 3 // 4, "file_size": width * 40} for width in (90, 320)]
        sizes.append({"file_id": file_id, "file_unique_id": "ularge", "width": 1280, "height": 960,
                      "file_size": len(jpeg_bytes())})
        return self.send({"message": self._message(photo=sizes)}, expect)

    def press(self, keyboard_message: Dict[str, Any], title: str, expect: str) -> List[Dict[str, Any]]:
        """Presses the inline-keyboard button `title` of a message the bot sent."""
        [data] = [button["callback_data"] for row in keyboard_message["reply_markup"]["inline_keyboard"]
                  for button in row if button["text"] == title]
        shown = {"message_id": unique_id(), "from": BOT, "chat": self._chat(), "date": int(time.time()),
                 "text": keyboard_message["text"], "reply_markup": keyboard_message["reply_markup"]}
        return self.send({"callback_query": {
            "id": str(unique_id()), "from": self._user(), "message": shown,
            "chat_instance": "-8213748329847", "data": data}}, expect)

    @staticmethod
    def _user() -> Dict[str, Any]:
        return {"id": KARIM_CHAT_ID, "is_bot": False, "first_name": "Karim", "language_code": "fr"}

    @staticmethod
    def _chat() -> Dict[str, Any]:
        return {"id": KARIM_CHAT_ID, "first_name": "Karim", "type": "private"}

    def _message(self, **content: Any) -> Dict[str, Any]:
        return {"message_id": unique_id(), "from": self._user(), "chat": self._chat(),
                "date": int(time.time()), **content}


def with_keyboard(replies: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The turn's message carrying buttons."""
    [message] = [reply for reply in replies if "reply_markup" in reply]
    return message


def titles(message: Dict[str, Any]) -> List[str]:
    return [button["text"] for row in message["reply_markup"]["inline_keyboard"] for button in row]


def test_karim_identified_by_customer_id_and_sms_code_declares_a_claim_with_a_photo_on_telegram(
        rasa_stack, services, messaging_platform):
    karim = TelegramUser(rasa_stack, messaging_platform)

    intro = karim.say("je veux déclarer un sinistre", expect="identifiant client")
    assert "AUT-559120" not in karim.text_of(intro)  # nothing personal before identification
    karim.say(KARIM, expect="date de naissance")
    sent = karim.say("30/07/1978", expect="code")
    # The same answer whatever the customer id and birth date: not even the masked number.
    assert "correspondent à un dossier" in karim.text_of(sent) and "89" not in karim.text_of(sent)
    code = latest_code(services, KARIM_PHONE)

    identified = karim.say(code, expect="type de sinistre")
    assert "identité est vérifiée" in karim.text_of(identified)
    claim_types = with_keyboard(identified)
    assert "Bris de glace" in titles(claim_types)

    karim.press(claim_types, "Bris de glace", expect="Quand")
    karim.say("avant-hier vers 8h", expect="Où")
    karim.say("sur le parking de mon entreprise à Lyon", expect="ce qui s'est passé")
    karim.say("un gravillon projeté par un camion a fissuré le pare-brise sur l'autoroute", expect="dégâts")

    # A photo of the damage, sent from Telegram during the declaration: fetched with getFile.
    messaging_platform.files[telegram_file_path(TELEGRAM_BOT_TOKEN, "AgACAgQAAxkBAAIBZ2")] = (jpeg_bytes(),
                                                                                           "image/jpeg")
    photo = karim.send_photo("AgACAgQAAxkBAAIBZ2", expect="dégâts")
    assert "Photo bien reçue" in karim.text_of(photo)

    witnesses = karim.say("le pare-brise est fissuré sur toute sa largeur", expect="témoins")
    summary = karim.press(with_keyboard(witnesses), "Aucun témoin", expect="AUT-559120")
    assert "bris de glace" in karim.text_of(summary).lower()

    filed = karim.text_of(karim.press(with_keyboard(summary), "Oui, enregistrer", expect="SIN-"))
    claim_number = re.search(r"SIN-\d{4}-\d{6}", filed).group(0)
    claim = services.get(f"/v1/customers/{KARIM}/claims/{claim_number}").json()
    assert claim["contract_number"] == "AUT-559120"
    assert claim["claim_type"] == "bris_de_glace"
    assert claim["channel"] == "telegram"
    assert [(d["filename"], d["content_type"]) for d in claim.get("documents", [])] == [("photo.jpg", "image/jpeg")]
