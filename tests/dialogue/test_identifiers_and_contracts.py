"""Claims and contracts named the way customers name them, with the real stack (REST and
the telephone line): a claim number in any spelling is matched against the customer's
own claims, a contract described (« la Peugeot », « ab123cd », « mon ancien studio rue
Carnot ») is that contract or none, and what was named before the identification is
used after it without being asked again."""

import io
import re
import uuid

import pytest
import requests
from pypdf import PdfReader

from devtools.espace_client import issue_session_token
from tests.dialogue.test_ivr_calls import PhoneCall, heard
from tests.dialogue.test_rest_identification import Visitor
from tests.reference_services.helpers import latest_code, sent_messages

MARIE, KARIM, SOPHIE = "10000001", "10000002", "10000003"
MARIE_PHONE = "+33612345678"
CLAIM_NUMBER = re.compile(r"SIN-\d{4}-\d{6}")


class Customer:
    """A customer in the espace client: identified by the page's session token."""

    def __init__(self, stack, customer_id):
        self.stack = stack
        self.sender = f"test-{uuid.uuid4()}"
        self.token = issue_session_token(customer_id, stack.jwt_secret)

    def say(self, text):
        return self.stack.say(self.sender, text, auth_token=self.token)


def said(messages):
    return "\n".join(message.get("text", "") for message in messages)


def attestation_text(answer):
    """The text of the PDF whose link the answer gives."""
    link = re.search(r"https?://\S+", answer).group(0).rstrip(".")
    pdf = requests.get(link, timeout=10)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"].startswith("application/pdf")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)


# --- claim numbers ------------------------------------------------------------------

@pytest.mark.parametrize("question", [
    "ou en est le sin 2026 731",
    "SIN2026-731 ça avance ?",
    "ou en est mon dossier 000731 svp",
    "et le 731 il en est ou ??",
])
def test_marie_s_claim_named_in_her_own_words_is_the_one_she_is_told_about(rasa_stack, question):
    answer = said(Customer(rasa_stack, MARIE).say(question))
    assert set(CLAIM_NUMBER.findall(answer)) == {"SIN-2026-000731"}, answer
    assert "expertise" in answer


def test_another_customer_s_claim_number_is_answered_as_one_that_does_not_exist(rasa_stack):
    # SIN-2026-000415 is Karim's: Marie hears what she hears for a number nobody has.
    someone_else_s = said(Customer(rasa_stack, MARIE).say("ou en est le dossier 415"))
    nobody_s = said(Customer(rasa_stack, MARIE).say("ou en est le dossier 416"))
    assert "Je ne trouve pas de sinistre 415" in someone_else_s
    assert someone_else_s.replace("415", "416") == nobody_s
    whole = said(Customer(rasa_stack, MARIE).say("où en est le SIN-2026-000415 ?"))
    assert "Je ne trouve pas de sinistre SIN-2026-000415" in whole and "412" not in whole


def test_a_claim_number_given_before_identification_is_used_after_it(rasa_stack, services):
    visitor = Visitor(rasa_stack)
    assert "identifiant client" in visitor.say("bjr ou en est mon sinistre sin 2026 731 svp")
    assert "date de naissance" in visitor.say(MARIE)
    visitor.say("12/03/1985")
    answer = visitor.say(latest_code(services, MARIE_PHONE))
    assert "identité est vérifiée" in answer
    assert set(CLAIM_NUMBER.findall(answer)) == {"SIN-2026-000731"}, answer


def test_on_the_phone_a_claim_number_said_before_identification_is_used_after_it(rasa_stack):
    call = PhoneCall(rasa_stack)
    call.event("start", caller=MARIE_PHONE)
    asked = heard(call.say("où en est mon dossier s i n deux mille vingt-six sept cent trente et un"))
    assert "date de naissance" in asked
    answer = heard(call.say("le douze mars mille neuf cent quatre-vingt-cinq"))
    assert "identité est vérifiée" in answer
    assert "S I N, 2026, zéro zéro zéro, 731" in answer and "expertise" in answer


# --- contracts described ----------------------------------------------------------

@pytest.mark.parametrize("request_text", [
    "il me faut l'attestation de la Peugeot",
    "attestation pour la peugeot 208 svp",
    "jai besoin de lattestation de ab123cd",
])
def test_the_attestation_of_the_car_described_is_that_car_s(rasa_stack, request_text):
    answer = said(Customer(rasa_stack, MARIE).say(request_text))
    pdf = attestation_text(answer)
    assert "AUT-482913" in pdf and "AB-123-CD" in pdf and "HAB-120034" not in pdf


def test_the_attestation_of_the_flat_is_the_flat_s(rasa_stack):
    answer = said(Customer(rasa_stack, MARIE).say("il me faut une attestation pour l'appart de niort"))
    pdf = attestation_text(answer)
    assert "HAB-120034" in pdf and "Ricard" in pdf and "AUT-482913" not in pdf


def test_the_former_studio_gets_no_attestation_and_never_another_contract_s(rasa_stack):
    answer = said(Customer(rasa_stack, SOPHIE).say(
        "bonjour il me faudrait l'attestation de mon ancien studio rue carnot pour l'agence"))
    assert "HAB-099812" in answer and "résilié le 30 juin 2025" in answer
    assert "PRO-700215" not in answer and not re.search(r"https?://", answer)


def test_a_car_the_customer_does_not_have_gets_no_attestation_of_hers(rasa_stack):
    messages = Customer(rasa_stack, KARIM).say("attestation pour la peugeot stp")
    answer = said(messages)
    assert "Je ne trouve aucun contrat à votre nom" in answer
    assert not re.search(r"https?://", answer) and "AUT-559120" not in answer.split("\n")[0]
    buttons = [button["payload"] for message in messages for button in message.get("buttons", [])]
    assert any("AUT-559120" in payload for payload in buttons)


def test_a_contract_described_before_identification_is_used_after_it(rasa_stack, services):
    visitor = Visitor(rasa_stack)
    assert "identifiant client" in visitor.say("il me faut l'attestation de la voiture AB 123 CD")
    visitor.say(MARIE)
    visitor.say("12/03/1985")
    answer = visitor.say(latest_code(services, MARIE_PHONE))
    assert "identité est vérifiée" in answer and "Pour quel contrat" not in answer
    pdf = attestation_text(answer)
    assert "AUT-482913" in pdf and "HAB-120034" not in pdf


def test_contract_questions_answer_about_the_contract_described(rasa_stack):
    marie = Customer(rasa_stack, MARIE)
    guarantees = said(marie.say("qu'est ce que couvre le contrat de la peugeot ?"))
    assert "AUT-482913" in guarantees and "HAB-120034" not in guarantees
    payments = said(marie.say("combien je paie pour l'appartement ?"))
    assert "HAB-120034" in payments and "AUT-482913" not in payments


def test_the_contract_chosen_in_words_at_the_question_is_the_one_described(rasa_stack):
    marie = Customer(rasa_stack, MARIE)
    asked = marie.say("il me faut une attestation")
    assert any(message.get("buttons") for message in asked)
    pdf = attestation_text(said(marie.say("celle de la Peugeot")))
    assert "AUT-482913" in pdf and "HAB-120034" not in pdf


def test_on_the_phone_the_car_described_before_identification_gets_its_attestation(rasa_stack, services):
    call = PhoneCall(rasa_stack)
    call.event("start", caller=MARIE_PHONE)
    before = len(sent_messages(services, "marie.dupont@example.fr"))
    assert "date de naissance" in heard(call.say("il me faut l'attestation de la peugeot deux cent huit"))
    answer = heard(call.say("le douze mars mille neuf cent quatre-vingt-cinq"))
    assert "envoyée par e-mail" in answer
    sent = sent_messages(services, "marie.dupont@example.fr")
    assert len(sent) == before + 1 and "AUT-482913" in sent[-1]["subject"]
