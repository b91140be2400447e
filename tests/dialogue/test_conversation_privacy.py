"""What is kept of a conversation: the stored events (read from the tracker store's
SQLite file itself) and the debug logs of the Rasa and action servers carry no birth
date, one-time code, e-mail, phone number, IBAN or token, and the conversation works."""
import re
import uuid

import pytest
import requests

from connectors.guard import conversation_id
from devtools.espace_client import issue_session_token
from tests.dialogue.widget_client import FromAddress
from tests.reference_services.helpers import latest_code
from tests.stored_conversation import stored_events_text

KARIM, MARIE = "10000002", "10000001"
KARIM_PHONE = "+33723456789"
SOPHIE_PHONE = "+33698765432"
NEW_PHONE, NEW_EMAIL = "06 55 44 33 22", "karim.b@exemple.fr"
IBAN = "FR76 3000 6000 0112 3456 7890 189"


@pytest.fixture
def sender():
    return f"test-{uuid.uuid4()}"


def texts(messages):
    return "\n".join(message.get("text", "") for message in messages)


def stored(rasa_stack, sender) -> str:
    """The conversation's events as the database holds them (JSON decoded, accents included)."""
    text = stored_events_text(rasa_stack.conversations_db, conversation_id("rest", sender))
    assert text
    return text


def identify_karim_and_change_his_bank_details(rasa_stack, services, sender):
    """Identification in the dialogue, then a change request full of personal data;
    returns what must never be kept."""
    assert "identifiant client" in texts(rasa_stack.say(sender, "je veux changer de RIB"))
    assert "date de naissance" in texts(rasa_stack.say(sender, "10000002"))
    assert "SMS" in texts(rasa_stack.say(sender, "30/07/1978"))
    code = latest_code(services, KARIM_PHONE)
    answer = texts(rasa_stack.say(sender, code))
    assert "identité est vérifiée" in answer and "Décrivez" in answer
    details = f"prélever sur mon nouveau compte {IBAN}, me joindre au {NEW_PHONE} ou {NEW_EMAIL}"
    assert "Je l'envoie ?" in texts(rasa_stack.say(sender, details))  # read back, sent on the yes
    assert re.search(r"DEM-\d{4}-\d{6}", texts(rasa_stack.say(sender, "oui")))
    return ("30/07/1978", "1978-07-30", code, IBAN, IBAN.replace(" ", ""), "3000 6000 0112", NEW_PHONE,
            "0655443322", NEW_EMAIL, KARIM_PHONE, "karim.benali@example.fr")


def test_an_identification_and_a_change_request_are_stored_without_personal_data(rasa_stack, services, sender):
    secrets = identify_karim_and_change_his_bank_details(rasa_stack, services, sender)

    conversation = stored(rasa_stack, sender)
    for secret in secrets:
        assert secret not in conversation
    assert "[date de naissance]" in conversation and "[code]" in conversation and "[IBAN]" in conversation
    # The address the messages came from (kept for the lock-out of identification) is not stored either.
    assert "ip:127.0.0.1" not in conversation and '"client_source": "[source]"' in conversation
    # The service got the request whole; the conversation goes on, identified, with nothing sensitive left in a slot.
    slots = rasa_stack.tracker(sender)["slots"]
    assert slots["customer_identified"] is True and slots["authenticated_customer_id"] == KARIM
    assert not any(slots[name] for name in ("identification_birth_date", "identification_code", "change_request_details"))


def test_the_espace_client_token_is_never_stored(rasa_stack, sender):
    token = issue_session_token(MARIE, rasa_stack.jwt_secret)
    rasa_stack.say(sender, "bonjour", auth_token=token)
    answer = texts(rasa_stack.say(sender, "quelles sont les garanties de mon contrat auto ?", auth_token=token))
    assert "AUT-482913" in answer  # the token identified Marie

    conversation = stored(rasa_stack, sender)
    assert token not in conversation and token.split(".")[1] not in conversation


def test_the_debug_logs_of_the_rasa_and_action_servers_carry_no_personal_data(rasa_stack, services, sender):
    secrets = identify_karim_and_change_his_bank_details(rasa_stack, services, sender)
    token = issue_session_token(MARIE, rasa_stack.jwt_secret)
    rasa_stack.say(f"{sender}-token", "bonjour", auth_token=token)

    for log in rasa_stack.logs:
        text = log.read_text(errors="replace")
        assert sender in text or "rasa_sdk" in text  # the right logs, at debug level
        for secret in (*secrets, token):
            assert secret not in text, f"{secret} in {log.name}"


def test_a_birth_date_or_a_code_given_where_it_was_not_asked_is_stored_masked(rasa_stack, services, sender):
    # From an address of its own: the wrong codes below count on it (docs/identification.md).
    http = requests.Session()
    http.mount("http://", FromAddress("127.201.0.7"))

    def say(text):
        answer = http.post(f"{rasa_stack.url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                           timeout=30)
        answer.raise_for_status()
        return texts(answer.json())

    assert "identifiant client" in say("je veux une attestation")
    assert "8 chiffres" in say("05/11/1990")  # the birth date given for the customer id
    assert "date de naissance" in say("10000003")
    assert "SMS" in say("05/11/1990")
    code = latest_code(services, SOPHIE_PHONE)
    for wrong in ("111111", "222222", "333333"):
        answer = say(wrong)
    assert "bloquée" in answer
    say(code)  # the code that came, typed once identification is locked

    conversation = stored(rasa_stack, sender)
    for secret in ("05/11/1990", "1990", code):
        assert secret not in conversation
    assert "[date]" in conversation and "[code]" in conversation
