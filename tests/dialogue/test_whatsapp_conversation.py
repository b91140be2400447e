"""A whole WhatsApp conversation with the real stack: Meta's webhooks in, Graph API calls out
(to the local fake platform API), identification by the WhatsApp number."""

import re
import time
from typing import Any, Dict, List, Tuple

from tests.connectors.fake_platform import meta_signed, whatsapp_media_path
from tests.dialogue.conftest import WHATSAPP_APP_SECRET, WHATSAPP_PHONE_NUMBER_ID
from tests.dialogue.messaging_user import MessagingUser, unique_id
from tests.reference_services.helpers import latest_code
from tests.sample_files import jpeg_bytes

MARIE, MARIE_WA_ID, MARIE_PHONE = "10000001", "33612345678", "+33612345678"


class WhatsAppUser(MessagingUser):
    """Marie on WhatsApp: her messages are Meta's signed webhooks, the answers the Graph API calls."""

    def __init__(self, stack, platform) -> None:
        super().__init__(platform)
        self.url = f"{stack.url}/webhooks/whatsapp/webhook"

    def webhook(self, message: Dict[str, Any]) -> Tuple[bytes, Dict[str, str]]:
        message = {"from": MARIE_WA_ID, "id": f"wamid.test{unique_id()}",
                   "timestamp": str(int(time.time())), **message}
        return meta_signed({"object": "whatsapp_business_account", "entry": [{
            "id": "102290129340398", "changes": [{
                "field": "messages",
                "value": {"messaging_product": "whatsapp",
                          "metadata": {"display_phone_number": "15550783881",
                                       "phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
                          "contacts": [{"profile": {"name": "Marie Dupont"}, "wa_id": MARIE_WA_ID}],
                          "messages": [message]}}]}]}, WHATSAPP_APP_SECRET)

    def say(self, text: str, expect: str) -> List[Dict[str, Any]]:
        return self.send({"type": "text", "text": {"body": text}}, expect)

    def choose(self, reply_id: str, expect: str) -> List[Dict[str, Any]]:
        return self.send({"type": "interactive", "interactive": {
            "type": "list_reply", "list_reply": {"id": reply_id, "title": "choix"}}}, expect)

    def replies(self) -> List[Dict[str, Any]]:
        return [c.json for c in self.platform.sent(f"/{WHATSAPP_PHONE_NUMBER_ID}/messages")
                if c.json.get("to") == MARIE_WA_ID]

    def text_of(self, replies: List[Dict[str, Any]]) -> str:
        return text_of(replies)


def text_of(replies: List[Dict[str, Any]]) -> str:
    parts = []
    for reply in replies:
        if reply["type"] == "text":
            parts.append(reply["text"]["body"])
        elif reply["type"] == "interactive":
            parts.append(reply["interactive"]["body"]["text"])
    return "\n".join(parts)


def choices(replies: List[Dict[str, Any]]) -> Dict[str, str]:
    """Title -> id of the buttons or list rows of the turn."""
    offered = {}
    for reply in replies:
        action = reply.get("interactive", {}).get("action", {})
        for button in action.get("buttons", []):
            offered[button["reply"]["title"]] = button["reply"]["id"]
        for section in action.get("sections", []):
            for row in section["rows"]:
                offered[row.get("description", row["title"])] = row["id"]
    return offered


def test_marie_identified_by_her_whatsapp_number_declares_a_claim_with_a_photo(rasa_stack, services,
                                                                              messaging_platform):
    marie = WhatsAppUser(rasa_stack, messaging_platform)

    intro = marie.say("je veux déclarer un sinistre", expect="date de naissance")
    assert "numéro de téléphone" in text_of(intro)
    assert "identifiant client" not in text_of(intro)  # the WhatsApp number stands for it

    sent = marie.say("12/03/1985", expect="code")
    assert "06 ** ** ** 78" in text_of(sent)
    code = latest_code(services, MARIE_PHONE)

    identified = marie.say(code, expect="type de sinistre")
    assert "identité est vérifiée" in text_of(identified)
    claim_types = choices(identified)
    assert identified[-1]["type"] == "interactive" and identified[-1]["interactive"]["type"] == "list"

    marie.choose(claim_types["Dégât des eaux"], expect="Quand")
    marie.say("hier vers 18h", expect="Où")
    marie.say("dans la cuisine de mon appartement", expect="ce qui s'est passé")
    marie.say("le tuyau sous l'évier a lâché pendant que j'étais au travail", expect="dégâts")

    # A photo of the damage, sent from WhatsApp during the declaration.
    messaging_platform.files[whatsapp_media_path("1013859600285441")] = (jpeg_bytes(), "image/jpeg")
    photo = marie.send({"type": "image", "image": {"mime_type": "image/jpeg", "sha256": "x", "id": "1013859600285441"}},
                       expect="dégâts")
    assert "Photo bien reçue" in text_of(photo)

    marie.say("le parquet de la cuisine est gonflé", expect="autre personne")
    marie.say("Aucun tiers impliqué", expect="témoins")
    summary = marie.say("Aucun témoin", expect="HAB-120034")
    assert "dégât des eaux" in text_of(summary)

    filed = text_of(marie.say("oui", expect="SIN-"))
    claim_number = re.search(r"SIN-\d{4}-\d{6}", filed).group(0)
    claim = services.get(f"/v1/customers/{MARIE}/claims/{claim_number}").json()
    assert claim["contract_number"] == "HAB-120034"
    assert claim["channel"] == "whatsapp"
    assert [d["content_type"] for d in claim.get("documents", [])] == ["image/jpeg"]


class UsernameUser(WhatsAppUser):
    """Marie once she chose a WhatsApp username: Meta gives her business-scoped user id
    (`from_user_id`, the contact's `user_id`), never her number."""

    def __init__(self, stack, platform, user_id: str) -> None:
        super().__init__(stack, platform)
        self.user_id = user_id

    def webhook(self, message: Dict[str, Any]) -> Tuple[bytes, Dict[str, str]]:
        message = {"from_user_id": self.user_id, "id": f"wamid.test{unique_id()}",
                   "timestamp": str(int(time.time())), **message}
        return meta_signed({"object": "whatsapp_business_account", "entry": [{
            "id": "102290129340398", "changes": [{
                "field": "messages",
                "value": {"messaging_product": "whatsapp",
                          "metadata": {"display_phone_number": "15550783881",
                                       "phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
                          "contacts": [{"profile": {"name": "Marie Dupont", "username": "@marie.dupont"},
                                        "user_id": self.user_id}],
                          "messages": [message]}}]}]}, WHATSAPP_APP_SECRET)

    def replies(self) -> List[Dict[str, Any]]:
        return [c.json for c in self.platform.sent(f"/{WHATSAPP_PHONE_NUMBER_ID}/messages")
                if c.json.get("recipient") == self.user_id and "status" not in c.json]


def test_marie_known_by_her_business_scoped_id_alone_identifies_and_places_her_claim_by_location(
        rasa_stack, services, messaging_platform):
    marie = UsernameUser(rasa_stack, messaging_platform, f"FR.{unique_id()}")

    # No number in the webhook: answered by `recipient`, identified as on the web.
    intro = marie.say("je veux déclarer un sinistre", expect="identifiant client")
    assert "HAB-120034" not in text_of(intro)
    marie.say(MARIE, expect="date de naissance")
    marie.say("12/03/1985", expect="code")
    identified = marie.say(latest_code(services, MARIE_PHONE), expect="type de sinistre")
    assert "identité est vérifiée" in text_of(identified)
    receipts = [c.json for c in messaging_platform.sent(f"/{WHATSAPP_PHONE_NUMBER_ID}/messages")
                if c.json.get("status") == "read"]
    assert receipts and all(r["typing_indicator"] == {"type": "text"} for r in receipts)

    marie.choose(choices(identified)["Dégât des eaux"], expect="Quand")
    marie.say("hier vers 18h", expect="Où")
    # A sticker meanwhile is answered, and the declaration goes on where it was.
    sticker = marie.send({"type": "sticker", "sticker": {"mime_type": "image/webp", "sha256": "x",
                                                         "id": "1228965655303734", "animated": False}},
                         expect="Que puis-je faire")
    assert len(sticker) == 1
    marie.send({"type": "location", "location": {
        "latitude": 46.323716, "longitude": -0.458805, "name": "Résidence Les Lilas",
        "address": "12 rue des Lilas, 79000 Niort"}}, expect="ce qui s'est passé")
    marie.say("le tuyau sous l'évier a lâché", expect="dégâts")
    marie.say("le parquet de la cuisine est gonflé", expect="autre personne")
    marie.say("Aucun tiers impliqué", expect="témoins")
    # Her neighbour saw it: she shares his contact card instead of typing it.
    summary = marie.send({"type": "contacts", "contacts": [{
        "name": {"formatted_name": "Paul Martin", "first_name": "Paul", "last_name": "Martin"},
        "phones": [{"phone": "+33 6 98 76 54 32", "wa_id": "33698765432", "type": "CELL"}]}]}, expect="HAB-120034")
    assert "Résidence Les Lilas, 12 rue des Lilas, 79000 Niort" in text_of(summary)
    assert "Paul Martin" in text_of(summary), text_of(summary)
