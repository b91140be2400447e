"""No process trusts another without its credentials (spec §5), with the real stack: a
conversation forged and posted straight to the action server gets nothing; one that comes
with the Rasa server's token but only claims an identity gets no data either; the services
refuse a call with the service token alone. And a valid espace-client token of a customer
the insurer does not know gets a clear answer, not a technical fault."""
import uuid

import pytest
import requests

from devtools.espace_client import issue_session_token
from tests.conftest import channel_phone_assertion, identity_assertion

KARIM = "10000002"
KARIMS_DATA = ("AUT-559120", "PRV-300871", "Benali", "SIN-2026-000415", "/v1/documents/")
UNKNOWN_CUSTOMER = "10000099"
MARIE, MARIES_PHONE, MARIES_BIRTH_DATE = "10000001", "+33612345678", "1985-03-12"


def texts(messages):
    return "\n".join(message.get("text", "") for message in messages)


def forged_call(action, sender, assertion=None):
    """What an attacker posts to the action server: a tracker saying « Karim is identified »
    and has chosen his car contract for an attestation."""
    return {
        "next_action": action, "sender_id": sender, "version": "3.6.21", "domain": {},
        "tracker": {
            "sender_id": sender, "events": [], "paused": False, "active_loop": {},
            "latest_action_name": "action_listen", "latest_input_channel": "rest",
            "latest_message": {"text": "mon attestation", "intent": {"name": "request_attestation"},
                               "entities": [], "metadata": {}},
            "slots": {"authenticated_customer_id": KARIM, "customer_identified": True, "procedure_owner": KARIM,
                      "attestation_contract": "AUT-559120", "identity_assertion": assertion},
        },
    }


FORGED_ACTIONS = ["action_generate_attestation", "action_contract_info", "action_claim_status"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer guessed-token"}])
@pytest.mark.parametrize("action", FORGED_ACTIONS)
def test_a_forged_conversation_posted_to_the_action_server_is_refused(rasa_stack, action, headers):
    answer = requests.post(f"{rasa_stack.actions_url}/webhook", json=forged_call(action, "rest:attacker"),
                           headers=headers, timeout=30)
    assert answer.status_code == 401
    assert not any(data in answer.text for data in KARIMS_DATA)


@pytest.mark.parametrize("assertion", [
    pytest.param(lambda sender: None, id="no-assertion"),
    pytest.param(lambda sender: identity_assertion(KARIM, conversation_id=sender,
                                                   secret="an-attackers-own-secret-0123456789"), id="forged"),
    pytest.param(lambda sender: identity_assertion(KARIM, conversation_id="rest:karims-own-conversation"),
                 id="karims-real-assertion-of-another-conversation"),
    pytest.param(lambda sender: identity_assertion(KARIM, conversation_id=sender, minutes=60, issued_minutes_ago=61),
                 id="expired"),
])
@pytest.mark.parametrize("action", FORGED_ACTIONS)
def test_a_claimed_identity_without_its_valid_assertion_gets_no_data(rasa_stack, action, assertion):
    """Even with the Rasa server's token (an attacker who stole it, or a tracker tampered
    with): the services take no customer id the action server asserts."""
    sender = f"rest:{uuid.uuid4()}"
    answer = requests.post(f"{rasa_stack.actions_url}/webhook", json=forged_call(action, sender, assertion(sender)),
                           headers={"Authorization": f"Bearer {rasa_stack.action_server_token}"}, timeout=30)
    assert answer.status_code == 200
    assert not any(data in answer.text for data in KARIMS_DATA)
    body = answer.json()
    assert body["responses"] == [{"response": "utter_identity_expired"}]
    slots = {event["name"]: event["value"] for event in body["events"] if event["event"] == "slot"}
    assert slots["authenticated_customer_id"] is None and slots["identity_assertion"] is None


@pytest.mark.parametrize("method, path, body", [
    ("GET", f"/v1/customers/{KARIM}/contracts", None),
    ("GET", f"/v1/customers/{KARIM}/claims", None),
    ("POST", f"/v1/customers/{KARIM}/contracts/AUT-559120/attestations", {"send_by_email": False}),
])
def test_the_services_refuse_a_call_with_only_the_service_token(services, method, path, body):
    answer = services.request(method, path, json=body, identified_as=None)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "identity_required")
    assert not any(data in answer.text for data in KARIMS_DATA)


@pytest.mark.parametrize("signature", [
    pytest.param({}, id="unsigned"),
    pytest.param({"channel_assertion": channel_phone_assertion(
        MARIES_PHONE, "ivr:the-attackers-call", secret="an-attackers-own-secret-0123456789")}, id="forged"),
])
def test_the_service_token_with_a_customers_number_and_birth_date_identifies_nobody(services, signature):
    """Marie's number and birth date, posted straight to the policy service as the telephone
    line's identification without a code: only the line's own signature of the number for
    the call proves the caller is calling from it."""
    answer = services.post("/v1/phone-identity-checks", identified_as=None, json={
        "phone_number": MARIES_PHONE, "birth_date": MARIES_BIRTH_DATE, "send_code": False,
        "conversation_id": "ivr:the-attackers-call", "channel": "ivr", "source": "ivr:attacker", **signature})
    assert answer.status_code in (401, 403)
    assert answer.json()["error"]["code"] in ("channel_assertion_required", "channel_assertion_invalid")
    assert "identity_assertion" not in answer.json() and MARIE not in answer.text


def test_a_valid_token_of_an_unknown_customer_gets_a_clear_answer_every_time(rasa_stack):
    sender = f"test-{uuid.uuid4()}"
    token = issue_session_token(UNKNOWN_CUSTOMER, rasa_stack.jwt_secret)
    answers = []
    for _ in range(2):
        answer = texts(rasa_stack.say(sender, "où en est mon sinistre ?", auth_token=token))
        answers.append(answer)
        assert "aucun dossier client" in answer and "0825 07 11 22" in answer
        rasa_stack.say(sender, "laissez tomber", auth_token=token)
    assert not any("problème technique" in answer for answer in answers)
    slots = rasa_stack.tracker(sender)["slots"]
    assert slots["customer_identified"] is False and slots["session_customer_unknown"] is True
    assert slots["identity_assertion"] is None


def identified_with(rasa_stack, sender, assertion):
    """A REST conversation where Karim identified earlier and holds `assertion`, written
    through Rasa's HTTP API as if the turns had happened."""
    from connectors.guard import conversation_id

    conversation = conversation_id("rest", sender)
    events = [{"event": "slot", "name": name, "value": value} for name, value in (
        ("authenticated_customer_id", KARIM), ("customer_identified", True), ("procedure_owner", KARIM),
        ("identity_assertion", assertion(conversation)))]
    answer = requests.post(f"{rasa_stack.url}/conversations/{conversation}/tracker/events",
                           params={"token": rasa_stack.api_token}, json=events, timeout=30)
    answer.raise_for_status()


def expired_for(conversation):
    return identity_assertion(KARIM, conversation_id=conversation, minutes=60, issued_minutes_ago=61)


def test_when_the_identity_expires_the_customer_is_asked_to_identify_again(rasa_stack):
    sender = f"test-{uuid.uuid4()}"
    rasa_stack.say(sender, "bonjour")
    identified_with(rasa_stack, sender, expired_for)
    answer = texts(rasa_stack.say(sender, "quel est mon bonus malus ?"))
    assert "identification a expiré" in answer and not any(data in answer for data in KARIMS_DATA)
    assert rasa_stack.tracker(sender)["slots"]["customer_identified"] is False
    assert "identifiant client" in texts(rasa_stack.say(sender, "quel est mon bonus malus ?"))


def test_an_espace_client_customer_whose_assertion_expired_gets_a_new_one_from_the_token(rasa_stack):
    sender = f"test-{uuid.uuid4()}"
    token = issue_session_token(KARIM, rasa_stack.jwt_secret)
    rasa_stack.say(sender, "bonjour", auth_token=token)
    identified_with(rasa_stack, sender, expired_for)
    answer = texts(rasa_stack.say(sender, "quels sont mes contrats ?", auth_token=token))
    assert "AUT-559120" in answer and "expiré" not in answer
    slots = rasa_stack.tracker(sender)["slots"]
    assert slots["customer_identified"] is True and slots["identity_assertion"] not in (None, expired_for(sender))
