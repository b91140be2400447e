"""Quotes in the conversation with the real stack and the policy service's real tariff: a
visitor's car quote told in free words reaching three formulas, one chosen and passed to
an adviser with the quote's reference; a home quote; corrections on the way; the quote
e-mailed as a PDF; the same on Telegram with its buttons."""

import json
import re
import time
import uuid
from typing import Any, Dict, List, Tuple

from tests.dialogue.conftest import TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN
from tests.dialogue.messaging_user import MessagingUser, unique_id
from tests.reference_services.helpers import query

DEV = re.compile(r"DEV-\d{4}-\d{6}")
TRF = re.compile(r"TRF-\d{4}-\d{6}")


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(message.get("text", "") for message in messages)


def button_titles(messages: List[Dict[str, Any]]) -> List[str]:
    return [button["title"] for message in messages for button in message.get("buttons") or []]


class Visitor:
    """An anonymous visitor on the REST channel."""

    def __init__(self, stack) -> None:
        self.stack, self.sender = stack, f"quote-{uuid.uuid4()}"

    def say(self, text: str) -> List[Dict[str, Any]]:
        return self.stack.say(self.sender, text)


def stored_quote(services, reference: str) -> Tuple[str, Dict[str, Any]]:
    [(product, risk)] = query(services, "SELECT product, risk FROM quotes WHERE reference = ?", (reference,))
    return product, json.loads(risk) if isinstance(risk, str) else risk


def test_a_visitors_car_quote_in_free_words_reaches_three_formulas_and_the_chosen_one_goes_to_an_adviser(
        rasa_stack, services):
    visitor = Visitor(rasa_stack)
    asked = texts(visitor.say("bonjour je voudrais un devis pour ma clio de 2019, je me gare dans la rue"))
    assert "À quoi sert-elle" in asked, asked
    asked = texts(visitor.say("pour aller au boulot, j'ai le permis depuis 12 ans"))
    assert "bonus-malus" in asked, asked
    answer = visitor.say("j'ai 50% de bonus")
    shown = texts(answer)
    reference = DEV.search(shown).group(0)
    for label in ("Tiers :", "Tiers étendu :", "Tous risques :"):
        assert label in shown, shown
    assert shown.count("par mois") == 3 and "€" in shown
    assert button_titles(answer) == ["Tiers", "Tiers étendu", "Tous risques"]
    assert stored_quote(services, reference)[1]["vehicle_model"] == "clio"

    confirm = texts(visitor.say("la tous risques"))
    assert "Tous risques" in confirm and "conseiller" in confirm, confirm
    assert "joindre" in texts(visitor.say("oui"))
    filed = texts(visitor.say("06 12 34 56 78"))
    handoff = TRF.search(filed).group(0)
    assert reference in filed and "06 •• •• •• 78" in filed, filed
    [(reason, summary, contact)] = query(services, "SELECT reason, summary, contact FROM handoffs WHERE reference = ?",
                                         (handoff,))
    assert reference in summary and contact == "+33612345678"


def test_a_home_quote_with_its_answers_in_any_order(rasa_stack, services):
    visitor = Visitor(rasa_stack)
    asked = texts(visitor.say("je voudrais un devis pour assurer mon logement"))
    assert "appartement ou une maison" in asked, asked
    asked = texts(visitor.say("un appart de 3 pieces a Niort 79000"))
    assert "locataire ou propriétaire" in asked, asked
    shown = texts(visitor.say("je suis locataire"))
    reference = DEV.search(shown).group(0)
    assert shown.count("par mois") >= 2, shown
    product, risk = stored_quote(services, reference)
    assert product == "habitation" and (risk["rooms"], risk["postcode"], risk["occupant"]) == (3, "79000", "locataire")
    kept = texts(visitor.say("non merci pas maintenant"))
    assert "rien n'est transmis" in kept and reference in kept, kept


def test_corrections_on_the_way_are_what_the_quote_is_priced_with(rasa_stack, services):
    visitor = Visitor(rasa_stack)
    visitor.say("devis auto pour une 208 de 2018")
    asked = texts(visitor.say("non c'est une 308 pas une 208, usage perso, elle dort au garage"))
    assert "permis depuis moins de 3 ans" in asked, asked
    shown = texts(visitor.say("oui"))  # a young driver: no bonus-malus asked, the quote is priced
    _, risk = stored_quote(services, DEV.search(shown).group(0))
    assert (risk["vehicle_model"], risk["vehicle_year"], risk["usage"], risk["parking"], risk["young_driver"]) == (
        "308", 2018, "prive", "garage", True)


def test_a_postcode_the_tariff_does_not_cover_is_asked_again_and_the_corrected_one_priced(rasa_stack, services):
    visitor = Visitor(rasa_stack)
    asked = texts(visitor.say("bjr devis habitation svp, appart 3 pieces a st pierre 97500 je suis locataire"))
    assert "ne peut pas retenir cette réponse" in asked and "code postal" in asked, asked
    assert not DEV.search(asked), asked
    shown = texts(visitor.say("ah pardon c 97200, fort de france"))
    _, risk = stored_quote(services, DEV.search(shown).group(0))
    assert (risk["housing"], risk["rooms"], risk["postcode"], risk["occupant"]) == (
        "appartement", 3, "97200", "locataire")


def test_a_deductible_the_tariff_does_not_offer_still_gets_the_formulas(rasa_stack, services):
    visitor = Visitor(rasa_stack)
    visitor.say("devis auto pour ma 308 de 2020 avec une franchise a 200 euros, elle dort au garage")
    visitor.say("juste perso")
    visitor.say("non j'ai mon permis depuis 20 ans")
    shown = texts(visitor.say("0,68"))
    assert "franchise de 200,00\xa0€ n'existe pas" in shown, shown
    _, risk = stored_quote(services, DEV.search(shown).group(0))
    assert risk["deductible_eur"] == 300 and risk["bonus_malus"] == 0.68  # the usual deductible of the tariff


def test_a_visitor_who_changes_their_mind_halfway_stops_the_quote_and_nothing_is_priced(rasa_stack, services):
    visitor = Visitor(rasa_stack)
    before = query(services, "SELECT COUNT(*) FROM quotes")[0][0]
    asked = texts(visitor.say("slt je voudrais un devis pr mon appart"))
    assert "appartement ou une maison" in asked or "pièces" in asked, asked
    stopped = texts(visitor.say("non en fait laissez tomber le devis, je verrai plus tard"))
    assert "j'arrête le devis" in stopped, stopped
    assert query(services, "SELECT COUNT(*) FROM quotes")[0][0] == before
    # The next message is a request of its own, not an answer to the quote.
    assert "pièces" not in texts(visitor.say("bonjour"))


def test_the_quote_e_mailed_as_a_pdf_to_the_address_given(rasa_stack, services):
    visitor = Visitor(rasa_stack)
    visitor.say("je veux un devis habitation pour une maison de 5 pieces a 17000")
    shown = texts(visitor.say("proprietaire"))
    reference = DEV.search(shown).group(0)
    sent = texts(visitor.say("envoyez le moi par mail a jean.dupont@exemple.fr"))
    assert "C'est envoyé" in sent and reference in sent and "jean.dupont" not in sent, sent
    rows = query(services, "SELECT attachment FROM outbox WHERE recipient = ?", ("jean.dupont@exemple.fr",))
    assert (f"quote:{reference}",) in rows


TELEGRAM_VISITOR = 771204588


class TelegramVisitor(MessagingUser):
    """A visitor in a private Telegram chat with the bot (not identified)."""

    def __init__(self, stack, platform) -> None:
        super().__init__(platform)
        self.url = f"{stack.url}/webhooks/telegram/webhook"

    def webhook(self, update: Dict[str, Any]) -> Tuple[bytes, Dict[str, str]]:
        body = json.dumps({"update_id": unique_id(), **update}).encode()
        return body, {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET_TOKEN}

    def replies(self) -> List[Dict[str, Any]]:
        return [c.json for c in self.platform.sent(f"/bot{TELEGRAM_BOT_TOKEN}/sendMessage")
                if c.json.get("chat_id") == TELEGRAM_VISITOR]

    def text_of(self, replies: List[Dict[str, Any]]) -> str:
        return "\n".join(reply["text"] for reply in replies)

    def say(self, text: str, expect: str) -> List[Dict[str, Any]]:
        return self.send({"message": {**self._message(), "text": text}}, expect)

    def press(self, replies: List[Dict[str, Any]], title: str, expect: str) -> List[Dict[str, Any]]:
        [(keyboard, data)] = [(reply, button["callback_data"]) for reply in replies if "reply_markup" in reply
                              for row in reply["reply_markup"]["inline_keyboard"] for button in row
                              if button["text"] == title]
        shown = {**self._message(), "from": {"id": 123456789, "is_bot": True, "first_name": "Oyat"},
                 "text": keyboard["text"], "reply_markup": keyboard["reply_markup"]}
        return self.send({"callback_query": {"id": str(unique_id()), "from": self._user(), "message": shown,
                                             "chat_instance": "-1", "data": data}}, expect)

    @staticmethod
    def _user() -> Dict[str, Any]:
        return {"id": TELEGRAM_VISITOR, "is_bot": False, "first_name": "Lina", "language_code": "fr"}

    def _message(self) -> Dict[str, Any]:
        return {"message_id": unique_id(), "from": self._user(), "date": int(time.time()),
                "chat": {"id": TELEGRAM_VISITOR, "first_name": "Lina", "type": "private"}}


def test_a_car_quote_on_telegram_with_a_button_per_formula(rasa_stack, services, messaging_platform):
    visitor = TelegramVisitor(rasa_stack, messaging_platform)
    visitor.say("salut, c'est combien pour assurer une yaris de 2021 ? usage perso", expect="Où dort-elle")
    visitor.say("dans la rue, et je suis jeune conducteur", expect="Tous risques")
    replies = visitor.replies()
    reference = DEV.search(visitor.text_of(replies)).group(0)
    confirm = visitor.press(replies, "Tiers étendu", expect="conseiller")
    assert "Tiers étendu" in visitor.text_of(confirm)
    visitor.say("oui", expect="joindre")
    filed = visitor.text_of(visitor.say("lina.martin@exemple.fr", expect="TRF-"))
    assert reference in filed and "lina.martin" not in filed, filed
    [(summary,)] = query(services, "SELECT summary FROM handoffs WHERE reference = ?", (TRF.search(filed).group(0),))
    assert reference in summary
