"""The hand-off with the real stack. Out of office hours (rasa_stack: its OFFICE_HOURS is one
morning a week that is never today): the advisers' hours and the channels that take a
request meanwhile, never an immediate answer on the closed line. In office hours
(rasa_stack_in_office_hours: at any hour), the promises kept: an adviser at the console
answers in the conversation itself; nobody there, an anonymous visitor is asked where to be
called back before any call-back is promised, and what they gave is stored masked."""

import re
import uuid

import pytest

from connectors.guard import conversation_id
from connectors.ivr_actions import HANDOFF_SIP_HEADER
from tests.actions.helpers import MARIE, espace_client_token
from tests.actions.test_handoff_promises import log_in_adviser, no_adviser_at_console
from tests.dialogue.conftest import OFFICE_HOURS
from tests.dialogue.test_ivr_calls import PhoneCall, heard, last_action
from tests.dialogue.test_whatsapp_conversation import WhatsAppUser
from tests.dialogue.test_whatsapp_conversation import text_of as whatsapp_text
from tests.dialogue.widget_client import WidgetClient, texts
from tests.reference_services.helpers import query
from tests.stored_conversation import stored_events_text

DAY_NAMES = {"lun": "lundi", "mar": "mardi", "mer": "mercredi", "jeu": "jeudi", "ven": "vendredi", "sam": "samedi",
             "dim": "dimanche"}
HOURS = f"le {DAY_NAMES[OFFICE_HOURS[:3]]} de 9 h à 12 h"


def test_out_of_hours_a_customer_asking_for_an_adviser_gets_the_hours_and_the_written_channels(rasa_stack):
    answer = "\n".join(message.get("text", "") for message in rasa_stack.say(
        f"test-{uuid.uuid4()}", "je veux parler a un humain svp c urgent"))
    assert HOURS in answer
    assert "48 à 72 h" in answer and "contact@oyat-assurances.fr" in answer and "CS 38735" in answer
    assert "immédiate" not in answer and "Je transmets" not in answer


def test_out_of_hours_a_caller_asking_for_an_adviser_is_not_transferred(rasa_stack):
    call = PhoneCall(rasa_stack)
    call.event("start", caller="+33612345678")
    reply = call.say("je voudrais parler à un conseiller")
    said = heard(reply)
    # Said aloud: « 9 heures à 12 heures ».
    assert "ne peuvent pas prendre votre appel maintenant" in said and HOURS.replace(" h", " heures") in said
    assert "immédiate" not in said
    assert all(action["type"] != "transfer" for action in reply["actions"]) and last_action(reply) == "listen"


@pytest.fixture
def nobody_at_the_console(services):
    no_adviser_at_console(services)


@pytest.fixture
def adviser_at_the_console(services):
    no_adviser_at_console(services)
    yield log_in_adviser(services)
    no_adviser_at_console(services)


class Visitor:
    """An anonymous visitor on the REST channel, in a hurry."""

    def __init__(self, stack, **metadata) -> None:
        self.stack, self.sender, self.metadata = stack, f"test-{uuid.uuid4()}", metadata

    def say(self, text: str) -> str:
        return "\n".join(message.get("text", "") for message in self.stack.say(self.sender, text, **self.metadata))

    @property
    def conversation(self) -> str:
        return conversation_id("rest", self.sender)

    def stored(self) -> str:
        """The conversation as the tracker store keeps it."""
        text = stored_events_text(self.stack.conversations_db, self.conversation)
        assert text
        return text


def handoffs_of(services, conversation: str) -> list:
    return query(services, "SELECT reference, contact, customer_id FROM handoffs WHERE conversation_id = ?",
                 [conversation])


def test_in_office_hours_a_widget_visitor_is_answered_here_by_the_adviser_at_the_console(
        rasa_stack_in_office_hours, services, adviser_at_the_console):
    client = WidgetClient(rasa_stack_in_office_hours.url)
    try:
        client.open()
        read_back = texts(client.say("je veux un humain"))
        assert "je veux un humain" in read_back and "Je l'envoie ?" in read_back
        answer = texts(client.say("oui"))
        conversation = conversation_id("widget", client.session_id)
    finally:
        client.close()
    assert "un conseiller va vous répondre ici, dans cette conversation, d'ici quelques instants" in answer
    [(reference, contact, customer)] = handoffs_of(services, conversation)
    assert reference in answer and contact is None and customer is None
    assert "rappelle" not in answer and "recontacte" not in answer


@pytest.mark.parametrize("number", ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78"])
def test_nobody_at_the_console_an_anonymous_visitor_leaves_a_number_their_own_way_before_any_promise(
        rasa_stack_in_office_hours, services, nobody_at_the_console, number):
    visitor = Visitor(rasa_stack_in_office_hours)
    assert "Je l'envoie ?" in visitor.say("passez moi quelqu'un")
    asked = visitor.say("oui")
    assert "Aucun conseiller n'est disponible" in asked and "numéro de téléphone ou" in asked
    # Nothing filed, nothing promised yet.
    assert handoffs_of(services, visitor.conversation) == [] and "TRF-" not in asked
    promised = visitor.say(number)
    [(reference, contact, _)] = handoffs_of(services, visitor.conversation)
    assert contact == "+33612345678"
    assert f"C'est noté (référence {reference}) : un conseiller vous rappelle dans la journée au 06 •• •• •• 78." \
        in promised
    # Stored masked whole: the answer and the slot alike.
    stored = visitor.stored()
    assert "[coordonnées]" in stored and "12 34" not in stored and "612345678" not in stored and "56 78" not in stored


def test_a_wrong_e_mail_is_asked_again_then_the_right_one_is_taken(
        rasa_stack_in_office_hours, services, nobody_at_the_console):
    visitor = Visitor(rasa_stack_in_office_hours)
    visitor.say("je veux parler a un conseiller")
    visitor.say("oui envoyer")
    again = visitor.say("jean.dupont@exemple")
    assert "Je ne trouve ni numéro de téléphone français ni adresse e-mail" in again
    assert handoffs_of(services, visitor.conversation) == []
    promised = visitor.say("c'est jean.dupont@exemple.fr")
    [(reference, contact, _)] = handoffs_of(services, visitor.conversation)
    assert contact == "jean.dupont@exemple.fr"
    assert "un conseiller vous écrit dans la journée à j•••@exemple.fr" in promised and reference in promised
    stored = visitor.stored()
    # The mistyped address as well, which has no e-mail's shape.
    assert "dupont" not in stored and "[coordonnées]" in stored


@pytest.mark.parametrize("refusal", ["non merci", "laissez tomber"])
def test_no_number_after_all_nothing_is_sent_and_the_assistant_goes_on(
        rasa_stack_in_office_hours, services, nobody_at_the_console, refusal):
    visitor = Visitor(rasa_stack_in_office_hours)
    visitor.say("je veux un humain")
    visitor.say("oui")
    assert "je ne transmets rien à un conseiller" in visitor.say(refusal)
    assert handoffs_of(services, visitor.conversation) == []
    # The form is over: the next message is a request again, not a phone number.
    assert "Je ne trouve ni numéro" not in visitor.say("quels sont vos horaires")


def test_on_whatsapp_too_the_adviser_at_the_console_answers_in_the_conversation(
        rasa_stack_in_office_hours, services, messaging_platform, adviser_at_the_console):
    marie = WhatsAppUser(rasa_stack_in_office_hours, messaging_platform)
    marie.say("passez moi quelqu'un svp", expect="Je l'envoie ?")
    answer = whatsapp_text(marie.say("oui", expect="un conseiller va vous répondre ici"))
    reference = re.search(r"TRF-\d{4}-\d{6}", answer).group(0)
    [(channel, conversation)] = query(services, "SELECT channel, conversation_id FROM handoffs WHERE reference = ?",
                                      [reference])
    assert channel == "whatsapp" and conversation.startswith("whatsapp:")


def test_nobody_at_the_console_an_identified_customer_is_called_back_on_the_details_on_file(
        rasa_stack_in_office_hours, services, nobody_at_the_console):
    marie = Visitor(rasa_stack_in_office_hours, auth_token=espace_client_token(MARIE))
    marie.say("bonjour")
    marie.say("je veux parler à quelqu'un")
    answer = marie.say("oui")
    [(reference, contact, customer)] = handoffs_of(services, marie.conversation)
    assert customer == MARIE and contact is None
    assert reference in answer and "recontacte dans la journée par la messagerie de votre espace client" in answer
    assert "numéro de téléphone ou" not in answer


def test_in_office_hours_a_caller_is_put_through_with_the_reference(
        rasa_stack_in_office_hours, services, nobody_at_the_console):
    call = PhoneCall(rasa_stack_in_office_hours)
    call.event("start", caller="+33612345678")
    reply = call.say("je voudrais parler à un conseiller")
    [transfer] = [action for action in reply["actions"] if action["type"] == "transfer"]
    [(reference, _, _)] = handoffs_of(services, conversation_id("ivr", call.call_id))
    assert transfer["sip_headers"] == {HANDOFF_SIP_HEADER: reference}
