"""With the real stack: after a claim is filed on a messaging app the customer is asked once
whether to be told there when it moves; « oui » records the consent with the address
Telegram's channel signed, « STOP » withdraws it; « stop » in the middle of a declaration
still offers to abandon it."""

import re
from typing import Any, Dict, List

from tests.conftest import as_customer
from tests.dialogue.conftest import TELEGRAM_BOT_TOKEN
from tests.dialogue.test_telegram_conversation import KARIM, TelegramUser, titles, with_keyboard
from tests.reference_services.helpers import latest_code

KARIM_PHONE = "+33723456789"


class KarimElsewhere(TelegramUser):
    """Karim in a chat of his own (not the other tests' conversation)."""

    chat_id = 0

    def replies(self) -> List[Dict[str, Any]]:
        return [c.json for c in self.platform.sent(f"/bot{TELEGRAM_BOT_TOKEN}/sendMessage")
                if c.json.get("chat_id") == self.chat_id]

    def _user(self) -> Dict[str, Any]:
        return {"id": self.chat_id, "is_bot": False, "first_name": "Karim", "language_code": "fr"}

    def _chat(self) -> Dict[str, Any]:
        return {"id": self.chat_id, "first_name": "Karim", "type": "private"}

    def _message(self, **content: Any) -> Dict[str, Any]:
        return {**super()._message(**content), "from": self._user(), "chat": self._chat()}


def karim_on_telegram(stack, platform, chat_id: int) -> KarimElsewhere:
    karim = KarimElsewhere(stack, platform)
    karim.chat_id = chat_id
    return karim


def identify(karim: KarimElsewhere, services) -> List[Dict[str, Any]]:
    karim.say("je veux déclarer un sinistre", expect="identifiant client")
    karim.say(KARIM, expect="date de naissance")
    karim.say("30/07/1978", expect="code")
    return karim.say(latest_code(services, KARIM_PHONE), expect="type de sinistre")


def consent_channels(services) -> List[str]:
    answer = services.get(f"/v1/customers/{KARIM}/notice-consents", headers=as_customer(KARIM))
    assert answer.status_code == 200, answer.text
    return [consent["channel"] for consent in answer.json()["consents"]]


def test_karim_agrees_to_be_told_on_telegram_then_says_stop(rasa_stack, services, messaging_platform):
    services.post("/v1/notice-consents/withdraw", json={"customer_id": KARIM}, headers=as_customer(KARIM))
    karim = karim_on_telegram(rasa_stack, messaging_platform, 731904562)

    claim_types = with_keyboard(identify(karim, services))
    karim.press(claim_types, "Bris de glace", expect="Quand")
    karim.say("hier matin", expect="Où")
    karim.say("devant chez moi a lyon", expect="ce qui s'est passé")
    karim.say("une branche est tombee sur le pare brise pendant le coup de vent", expect="dégâts")
    witnesses = karim.say("pare-brise etoile cote passager", expect="témoins")
    summary = karim.press(with_keyboard(witnesses), "Aucun témoin", expect="AUT-559120")

    filed = karim.press(with_keyboard(summary), "Oui, enregistrer", expect="prévienne ici")
    assert re.search(r"SIN-\d{4}-\d{6}", karim.text_of(filed))
    question = with_keyboard(filed)
    assert question["text"] == ("Voulez-vous que je vous prévienne ici quand votre sinistre avance "
                                "(visite de l'expert, indemnisation) ?")
    assert titles(question) == ["Oui", "Non"]

    agreed = karim.press(question, "Oui", expect="je vous préviendrai ici")
    assert "STOP" in karim.text_of(agreed)
    assert consent_channels(services) == ["telegram"]

    stopped = karim.say("STOP", expect="ne recevrez plus")
    assert "Il n'y a aucune démarche en cours" not in karim.text_of(stopped)
    assert consent_channels(services) == []


def test_stop_in_the_middle_of_a_declaration_still_offers_to_abandon_it(rasa_stack, services, messaging_platform):
    karim = karim_on_telegram(rasa_stack, messaging_platform, 731904563)
    identify(karim, services)

    asked = karim.say("stop", expect="abandonner cette déclaration")
    assert "ne recevrez plus" not in karim.text_of(asked)


def test_arreter_les_notifications_outside_any_declaration_withdraws(rasa_stack, services, messaging_platform):
    karim = karim_on_telegram(rasa_stack, messaging_platform, 731904564)
    karim.say("arreter les notifications", expect="ne recevrez plus")
