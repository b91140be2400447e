"""The request a customer is answered about, found in the conversation even when the
identification came in between."""

from rasa_sdk import Tracker

from actions.common.messages import remembered_request, request_message, request_text


def user(text, intent, entities=(), message_id=None):
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": list(entities)}
    return {"event": "user", "text": text, "parse_data": parse_data, "message_id": message_id}


def action(name):
    return {"event": "action", "name": name}


def tracker(*events):
    latest = next(e for e in reversed(events) if e["event"] == "user")["parse_data"]
    return Tracker("conversation", {}, latest, list(events), False, None, {}, "action_listen")


CLAIM_NUMBER = {"entity": "claim_number", "value": "SIN-2026-000731", "start": 21, "end": 36}
REQUEST = user("ou en est mon dossier SIN-2026-000731", "claim_status", [CLAIM_NUMBER], "m1")
IDENTIFICATION = (action("action_remember_request"), action("identification_form"), user("10000001", "inform"),
                  user("12/03/1985", "inform"), user("123456", "claim_status"), action("action_resume_request"))


def test_after_identification_the_request_is_the_message_remembered_before_it_with_its_entities():
    conversation = tracker(user("bonjour", "greet"), REQUEST, *IDENTIFICATION)
    # The code was (wrongly) read as a claim question: the remembered request still wins.
    message = request_message(conversation, ["claim_status", "expert_visit"])
    assert message["text"] == REQUEST["text"] and message["entities"] == [CLAIM_NUMBER]
    assert remembered_request(conversation)["message_id"] == "m1"


def test_a_request_of_another_kind_than_the_remembered_one_is_looked_up_by_its_intent():
    attestation = user("une attestation pour la peugeot", "request_attestation")
    conversation = tracker(attestation, action("utter_x"), REQUEST, *IDENTIFICATION[:-2])
    assert request_text(conversation, "request_attestation") == attestation["text"]


def test_a_request_asked_now_is_the_latest_message():
    conversation = tracker(REQUEST, *IDENTIFICATION, user("et le 415 ?", "claim_status"))
    assert request_text(conversation, "claim_status") == "et le 415 ?"


def test_without_such_a_request_the_latest_message_is_read():
    conversation = tracker(user("la peugeot", "inform"))
    assert request_text(conversation, "request_attestation") == "la peugeot"
