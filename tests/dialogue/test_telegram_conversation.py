"""A whole Telegram conversation with the real stack: Bot API updates in (with the webhook's
secret token), Bot API calls out (to the local fake platform API). Telegram gives no
verified phone number unless the customer shares their account's (« Partager mon numéro »):
without it, the customer identifies with their customer id, birth date and SMS code."""

import json
import re
import time
from typing import Any, Dict, List, Tuple

from tests.connectors.fake_platform import telegram_file_path
from tests.dialogue.conftest import TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN
from tests.dialogue.messaging_user import MessagingUser, unique_id
from tests.reference_services.helpers import latest_code
from tests.sample_files import jpeg_bytes

KARIM, KARIM_PHONE = "10000002", "+33723456789"
KARIM_CHAT_ID = 584930217
BOT = {"id": 123456789, "is_bot": True, "first_name": "Oyat", "username": "oyat_assurances_bot"}


class TelegramUser(MessagingUser):
    """Karim in a private chat with the bot (by default the chat of the first test)."""

    def __init__(self, stack, platform, chat_id: int = KARIM_CHAT_ID) -> None:
        super().__init__(platform)
        self.url = f"{stack.url}/webhooks/telegram/webhook"
        self.chat_id = chat_id

    def webhook(self, update: Dict[str, Any]) -> Tuple[bytes, Dict[str, str]]:
        body = json.dumps({"update_id": unique_id(), **update}).encode()
        return body, {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET_TOKEN}

    def replies(self) -> List[Dict[str, Any]]:
        return [c.json for c in self.platform.sent(f"/bot{TELEGRAM_BOT_TOKEN}/sendMessage")
                if c.json.get("chat_id") == self.chat_id]

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

    def send_message(self, expect: str, **content: Any) -> List[Dict[str, Any]]:
        """A message of another kind than a text: a voice note, a contact, a venue..."""
        return self.send({"message": self._message(**content)}, expect)

    def _user(self) -> Dict[str, Any]:
        return {"id": self.chat_id, "is_bot": False, "first_name": "Karim", "language_code": "fr"}

    def _chat(self) -> Dict[str, Any]:
        return {"id": self.chat_id, "first_name": "Karim", "type": "private"}

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


def test_karim_starts_the_bot_shares_his_number_and_declares_a_claim_placed_by_a_venue(
        rasa_stack, services, messaging_platform):
    karim = TelegramUser(rasa_stack, messaging_platform, chat_id=KARIM_CHAT_ID + 1)

    # /start, the first message of every Telegram user, greets (never « je n'ai pas compris »).
    started = karim.say("/start", expect="Partager mon numéro")
    assert "pas bien compris" not in karim.text_of(started)
    [offer] = [reply for reply in started if "keyboard" in reply.get("reply_markup", {})]
    assert offer["reply_markup"]["keyboard"] == [[{"text": "Partager mon numéro", "request_contact": True}]]
    assert karim.platform.sent(f"/bot{TELEGRAM_BOT_TOKEN}/sendChatAction")  # « typing… » meanwhile

    # The button sends his own contact: Telegram verified the number.
    shared = karim.send_message("votre numéro", contact={
        "phone_number": KARIM_PHONE.lstrip("+"), "first_name": "Karim", "user_id": karim.chat_id})
    assert shared[-1]["reply_markup"] == {"remove_keyboard": True}

    # Identification as on WhatsApp: the number stands for the customer id.
    intro = karim.say("je veux déclarer un sinistre", expect="date de naissance")
    assert "identifiant client" not in karim.text_of(intro)
    karim.say("30/07/1978", expect="code")
    identified = karim.say(latest_code(services, KARIM_PHONE), expect="type de sinistre")
    assert "identité est vérifiée" in karim.text_of(identified)

    karim.press(with_keyboard(identified), "Bris de glace", expect="Quand")
    karim.say("ce matin vers 8h", expect="Où")
    # A voice note meanwhile is answered, and the declaration goes on where it was.
    voice = karim.send_message("vocaux", voice={"duration": 6, "mime_type": "audio/ogg",
                                                "file_id": "AwACAgQAAxkBAAIBd2", "file_unique_id": "AgADd2"})
    assert "0825 07 11 22" in karim.text_of(voice)
    location = {"latitude": 45.764043, "longitude": 4.835659}
    karim.send_message("ce qui s'est passé", location=location, venue={
        "location": location, "title": "Parking Bellecour", "address": "Place Bellecour, 69002 Lyon"})
    karim.say("un gravillon a fissuré le pare-brise", expect="dégâts")
    witnesses = karim.say("le pare-brise est fissuré sur 20 cm", expect="témoins")
    summary = karim.press(with_keyboard(witnesses), "Aucun témoin", expect="AUT-559120")
    assert "Parking Bellecour" in karim.text_of(summary)

    filed = karim.text_of(karim.press(with_keyboard(summary), "Oui, enregistrer", expect="SIN-"))
    claim_number = re.search(r"SIN-\d{4}-\d{6}", filed).group(0)
    claim = services.get(f"/v1/customers/{KARIM}/claims/{claim_number}").json()
    assert claim["place"].startswith("Parking Bellecour, Place Bellecour, 69002 Lyon")
    assert claim["channel"] == "telegram"


def test_a_visitor_from_a_quote_link_of_the_insurers_site_is_asked_what_to_insure_at_once(
        rasa_stack, messaging_platform):
    visitor = TelegramUser(rasa_stack, messaging_platform, chat_id=KARIM_CHAT_ID + 2)
    # t.me/<bot>?start=devis_site-2026: Telegram sends « /start devis_site-2026 ».
    opened = visitor.say("/start devis_site-2026", expect="Partager mon numéro")
    text = visitor.text_of(opened)
    assert "Que voulez-vous assurer ?" in text and "pas bien compris" not in text, text
    asked = visitor.press(with_keyboard([reply for reply in opened if "inline_keyboard" in reply.get(
        "reply_markup", {})]), "Un logement", expect="appartement ou une maison")
    assert "pas bien compris" not in visitor.text_of(asked)
