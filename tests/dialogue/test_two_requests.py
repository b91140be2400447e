"""Two requests in one message, with the real stack: both are served, in the order asked,
the second announced; when the customer must identify first, they identify once."""

import re
import uuid

import pytest

from devtools.espace_client import issue_session_token
from tests.reference_services.helpers import latest_code

MARIE, MARIE_PHONE = "10000001", "+33612345678"
SECOND = "Passons à votre deuxième demande"


def texts(messages) -> str:
    return "\n".join(message.get("text", "") for message in messages)


@pytest.fixture
def sender():
    return f"test-{uuid.uuid4()}"


def test_an_attestation_and_a_claim_status_asked_together_are_both_answered_in_order(rasa_stack, sender):
    token = issue_session_token(MARIE, rasa_stack.jwt_secret)
    answer = texts(rasa_stack.say(sender, "bjr il me faut l attestation de ma voiture, et aussi ou en est mon sinistre",
                                  auth_token=token))
    attestation = answer.index("AUT-482913")
    announced = answer.index(f"{SECOND} : suivre un sinistre")
    status = answer.index("SIN-2026-000731")
    assert attestation < announced < status
    assert re.search(r"https?://\S+", answer[:announced]) and "expertise" in answer[announced:]
    assert "Je n'ai pas bien compris" not in answer


def test_two_sentences_two_requests(rasa_stack, sender):
    token = issue_session_token(MARIE, rasa_stack.jwt_secret)
    answer = texts(rasa_stack.say(sender, "C'est quoi mon bonus ? Ensuite je voudrais savoir combien je paie par mois "
                                          "pour l'appart", auth_token=token))
    assert answer.index("0,68") < answer.index(SECOND) < answer.index("HAB-120034")


def test_identified_once_then_both_requests_served(rasa_stack, services, sender):
    asked = texts(rasa_stack.say(sender, "jveux mon attestation pour la voiture et puis ou en est mon dossier sinistre"))
    assert "identifiant client" in asked and "SIN-2026" not in asked
    assert "date de naissance" in texts(rasa_stack.say(sender, "10000001"))
    assert "SMS" in texts(rasa_stack.say(sender, "12/03/1985"))
    answer = texts(rasa_stack.say(sender, latest_code(services, MARIE_PHONE)))
    assert answer.index("identité est vérifiée") < answer.index("AUT-482913") < answer.index(SECOND)
    assert "SIN-2026-000731" in answer[answer.index(SECOND):]
    assert "Je n'ai pas bien compris" not in answer and answer.count("identifiant client") == 0


def test_a_single_request_told_in_two_sentences_is_served_once(rasa_stack, sender):
    token = issue_session_token(MARIE, rasa_stack.jwt_secret)
    answer = texts(rasa_stack.say(sender, "Bonjour. Il me faut une attestation pour ma voiture svp", auth_token=token))
    assert "AUT-482913" in answer and SECOND not in answer


def test_an_attestation_and_an_alert_asked_together_are_both_served(rasa_stack, sender):
    token = issue_session_token(MARIE, rasa_stack.jwt_secret)
    answer = texts(rasa_stack.say(
        sender, "il me faut l'attestation de ma voiture et aussi prevenez moi un mois avant l'echeance de l'auto",
        auth_token=token))
    announced = answer.index(f"{SECOND} : créer une alerte")
    assert "AUT-482913" in answer[:announced] and re.search(r"https?://\S+", answer[:announced])
    assert "30 jours avant l'échéance, sur le contrat AUT-482913" in answer[announced:]
