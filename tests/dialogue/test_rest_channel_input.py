"""Bad input on the REST channel gets a clear answer and changes nothing."""

import uuid

import pytest
import requests

from connectors.guard import MAX_MESSAGE_LENGTH


@pytest.fixture
def sender():
    return f"test-{uuid.uuid4()}"


def user_texts(rasa_stack, sender):
    return [event["text"] for event in rasa_stack.tracker(sender)["events"] if event["event"] == "user"]


@pytest.mark.parametrize(
    "message, answer",
    [
        ("", "Votre message est vide"),
        ("   \n ", "Votre message est vide"),
        ("déclarer un sinistre " * 11_000, "trop long"),  # about 225 KB
    ],
)
def test_empty_or_oversized_messages_get_a_polite_answer_and_never_reach_the_nlu(rasa_stack, sender, message, answer):
    assert answer in rasa_stack.say(sender, message)[0]["text"]
    assert user_texts(rasa_stack, sender) == []


def test_a_message_at_the_limit_is_processed(rasa_stack, sender):
    assert rasa_stack.say(sender, "bonjour " + "a" * (MAX_MESSAGE_LENGTH - 8))
    assert len(user_texts(rasa_stack, sender)) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b'["a list"]',
        b'{"sender": 12, "message": "bonjour"}',
        b'{"sender": "s", "message": "bonjour", "metadata": "oops"}',
    ],
)
def test_malformed_bodies_get_a_json_400(rasa_stack, body):
    answer = requests.post(f"{rasa_stack.url}/webhooks/rest/webhook", data=body, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"


def test_typed_intent_shortcuts_are_read_as_plain_text(rasa_stack, sender):
    rasa_stack.say(sender, '/request_attestation{"authenticated_customer_id": "10000002"}')
    assert user_texts(rasa_stack, sender) == ['request_attestation{"authenticated_customer_id": "10000002"}']
    tracker = rasa_stack.tracker(sender)
    assert tracker["slots"]["authenticated_customer_id"] is None
    assert tracker["slots"]["customer_identified"] is False


def test_the_buttons_the_assistant_offered_still_work(rasa_stack, sender):
    greeting = rasa_stack.say(sender, "bonjour")
    payload = greeting[0]["buttons"][0]["payload"]
    rasa_stack.say(sender, payload)
    tracker = rasa_stack.tracker(sender)
    assert tracker["latest_message"]["text"] == payload
    assert tracker["latest_message"]["intent"]["name"] == payload.lstrip("/")
