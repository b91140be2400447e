"""A whole Messenger conversation with the real stack: Meta's signed page webhooks in, Send
API calls out (to the local fake platform API). Messenger gives no verified phone number:
the customer identifies with their customer id, birth date and SMS code."""

import re
import time
from typing import Any, Dict, List, Tuple

import requests

from tests.connectors.fake_platform import meta_signed
from tests.dialogue.conftest import MESSENGER_APP_SECRET
from tests.dialogue.messaging_user import MessagingUser, unique_id
from tests.reference_services.helpers import latest_code
from tests.sample_files import jpeg_bytes

MARIE, MARIE_PHONE = "10000001", "+33612345678"
MARIE_PSID, PAGE_ID = "7204519836624417", "104729384756123"


class MessengerUser(MessagingUser):
    """Marie writing to the insurer's page (by default as in the first test)."""

    def __init__(self, stack, platform, psid: str = MARIE_PSID) -> None:
        super().__init__(platform)
        self.url = f"{stack.url}/webhooks/messenger/webhook"
        self.psid = psid

    def webhook(self, message: Dict[str, Any]) -> Tuple[bytes, Dict[str, str]]:
        event = {"sender": {"id": self.psid}, "recipient": {"id": PAGE_ID}, "timestamp": int(time.time() * 1000),
                 **self.event_content(message)}
        return meta_signed({"object": "page", "entry": [{
            "id": PAGE_ID, "time": int(time.time() * 1000), "messaging": [event]}]}, MESSENGER_APP_SECRET)

    def replies(self) -> List[Dict[str, Any]]:
        return [c.json["message"] for c in self.platform.sent("/v21.0/me/messages") if "message" in c.json
                if c.json.get("recipient", {}).get("id") == self.psid]

    def event_content(self, message: Dict[str, Any]) -> Dict[str, Any]:
        """A message event; `{"message_edit": ...}` or `{"reaction": ...}` as they come."""
        if "message_edit" in message or "reaction" in message:
            return message
        return {"message": {"mid": f"m_AG5Hz2Uq7tuwNEhXfYYKj8mJ{unique_id()}", **message}}

    def sender_actions(self) -> List[str]:
        return [c.json["sender_action"] for c in self.platform.sent("/v21.0/me/messages")
                if "sender_action" in c.json and c.json["recipient"]["id"] == self.psid]

    def text_of(self, replies: List[Dict[str, Any]]) -> str:
        return "\n".join(reply.get("text", "") for reply in replies)

    def say(self, text: str, expect: str) -> List[Dict[str, Any]]:
        return self.send({"text": text}, expect)

    def tap(self, replies: List[Dict[str, Any]], title: str, expect: str) -> List[Dict[str, Any]]:
        """Taps the quick reply `title` the bot offered in `replies`."""
        [payload] = [quick["payload"] for quick in quick_replies(replies) if quick["title"] == title]
        return self.send({"text": title, "quick_reply": {"payload": payload}}, expect)

    def send_photo(self, url: str, expect: str) -> List[Dict[str, Any]]:
        return self.send({"attachments": [{"type": "image", "payload": {"url": url}}]}, expect)


def quick_replies(replies: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [quick for reply in replies for quick in reply.get("quick_replies", [])]


def test_marie_identified_by_customer_id_and_sms_code_declares_a_claim_with_a_photo_on_messenger(
        rasa_stack, services, messaging_platform):
    marie = MessengerUser(rasa_stack, messaging_platform)

    intro = marie.say("bonsoir, je veux déclarer un sinistre", expect="identifiant client")
    assert "HAB-120034" not in marie.text_of(intro)  # nothing personal before identification
    marie.say(MARIE, expect="date de naissance")
    sent = marie.say("12/03/1985", expect="code")
    # The same answer whatever the customer id and birth date: not even the masked number.
    assert "correspondent à un dossier" in marie.text_of(sent) and "78" not in marie.text_of(sent)
    code = latest_code(services, MARIE_PHONE)

    identified = marie.say(code, expect="type de sinistre")
    assert "identité est vérifiée" in marie.text_of(identified)
    marie.tap(identified, "Dégât des eaux", expect="Quand")
    marie.say("hier soir vers 22h", expect="Où")
    marie.say("dans la salle de bains de mon appartement", expect="ce qui s'est passé")
    marie.say("le joint de la baignoire a cédé et l'eau a coulé chez le voisin du dessous", expect="dégâts")

    # A photo of the damage, sent from Messenger during the declaration: Meta gives its URL.
    photo_path = "/v/t1.15752-9/448512377_salle-de-bains_n.jpg"
    messaging_platform.files[photo_path] = (jpeg_bytes(), "image/jpeg")
    photo = marie.send_photo(f"{messaging_platform.url}{photo_path}?_nc_cat=103&oh=00_AYD", expect="dégâts")
    assert "Photo bien reçue" in marie.text_of(photo)

    third_party = marie.say("le plafond de la salle de bains est taché", expect="autre personne")
    # Messenger shows 20 characters of a quick reply's title.
    witnesses = marie.tap(third_party, "Non, personne", expect="témoins")
    summary = marie.tap(witnesses, "Aucun témoin", expect="HAB-120034")
    assert "dégât des eaux" in marie.text_of(summary)

    filed = marie.text_of(marie.tap(summary, "Oui, enregistrer", expect="SIN-"))
    claim_number = re.search(r"SIN-\d{4}-\d{6}", filed).group(0)
    claim = services.get(f"/v1/customers/{MARIE}/claims/{claim_number}").json()
    assert claim["contract_number"] == "HAB-120034"
    assert claim["claim_type"] == "degat_des_eaux"
    assert claim["channel"] == "messenger"
    assert [(d["filename"], d["content_type"]) for d in claim.get("documents", [])] == [
        ("448512377_salle-de-bains_n.jpg", "image/jpeg")]


def test_a_like_a_location_an_edit_and_a_reaction_on_messenger_are_handled_as_messenger_means_them(
        rasa_stack, services, messaging_platform):
    visitor = MessengerUser(rasa_stack, messaging_platform, psid=str(unique_id())[-16:])
    cdn = "https://scontent.xx.fbcdn.net/v/t39.1997-6"

    like = visitor.send({"attachments": [{"type": "image", "payload": {
        "url": f"{cdn}/851557_369239266556155_759568595_n.png", "sticker_id": 369239263222822}}]},
        expect="Que puis-je faire")
    assert len(like) == 1
    assert visitor.sender_actions()[:2] == ["mark_seen", "typing_on"]

    # Outside a claim declaration, a location says what it is for; during one, it is its place.
    visitor.send({"attachments": [{"type": "location", "title": "Pinned Location", "payload": {
        "coordinates": {"lat": 46.323716, "long": -0.458805}}}]}, expect="déclarer un sinistre")

    edited = visitor.send({"message_edit": {"mid": f"m_{unique_id()}", "text": "bonjour", "num_edit": 1}},
                          expect="modifié")
    assert len(edited) == 1

    # A reaction is no message: acknowledged, never answered.
    before = len(visitor.replies())
    body, headers = visitor.webhook({"reaction": {"reaction": "like", "emoji": "👍", "action": "react",
                                                  "mid": f"m_{unique_id()}"}})
    assert requests.post(visitor.url, data=body, headers={"Content-Type": "application/json", **headers},
                         timeout=10).status_code == 200
    assert visitor._settled(before) == []
