"""Hostile input on the REST channel: a clear answer or a 4xx, nothing written in the
conversation store (read from its SQLite file), the server still answering."""

import concurrent.futures
import http.client
import json
import sqlite3
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from connectors.guard import MAX_MESSAGE_LENGTH, MAX_METADATA_DEPTH, conversation_id
from connectors.rate_limit import RateLimiter

MISSING = object()


@pytest.fixture
def sender():
    return f"test-{uuid.uuid4()}"


def webhook(rasa_stack):
    return f"{rasa_stack.url}/webhooks/rest/webhook"


def user_texts(rasa_stack, sender):
    return [event["text"] for event in rasa_stack.tracker(sender)["events"] if event["event"] == "user"]


def stored_events(rasa_stack, sender) -> int:
    with sqlite3.connect(rasa_stack.conversations_db) as connection:
        return connection.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = ?", (conversation_id("rest", sender),)).fetchone()[0]


def assert_alive(rasa_stack):
    assert requests.get(f"{rasa_stack.url}/webhooks/rest/", timeout=10).json() == {"status": "ok"}
    assert "Bonjour" in rasa_stack.say(f"alive-{uuid.uuid4()}", "bonjour")[0]["text"]


REFUSED_MESSAGES = {
    "a 225 KB message": ("déclarer un sinistre " * 11_000, "trop long"),
    "an empty message": ("", "Votre message est vide"),
    "whitespace only": ("   \n\t ", "Votre message est vide"),
    "control characters only": ("\x00\x01\x02\x1b\x7f", "Votre message est vide"),
    "a message that is a number": (42, "Votre message est vide"),
    "a message that is a list": (["bonjour"], "Votre message est vide"),
    "a message that is an object": ({"text": "bonjour"}, "Votre message est vide"),
    "no message at all": (MISSING, "Votre message est vide"),
}


@pytest.mark.parametrize("message, answer", REFUSED_MESSAGES.values(), ids=REFUSED_MESSAGES.keys())
def test_unusable_messages_get_a_polite_answer_never_reach_the_nlu_and_write_nothing(rasa_stack, sender, message, answer):
    body = {"sender": sender} if message is MISSING else {"sender": sender, "message": message}
    reply = requests.post(webhook(rasa_stack), json=body, timeout=30)
    assert reply.status_code == 200 and answer in reply.json()[0]["text"]
    assert stored_events(rasa_stack, sender) == 0
    assert_alive(rasa_stack)


MALFORMED_BODIES = {
    "malformed JSON": b"{not json",
    "binary garbage": bytes(range(256)),
    "invalid UTF-8 inside a JSON string": b'{"sender": "SENDER", "message": "caf\xe9 cr\xe8me"}',
    "a lone UTF-16 surrogate": b'{"sender": "SENDER\\ud800", "message": "bonjour"}',
    "a JSON list": b'["SENDER", "bonjour"]',
    "an empty body": b"",
    "no sender": b'{"message": "bonjour SENDER"}',
    "an empty sender": b'{"sender": "", "message": "bonjour SENDER"}',
    "a sender that is a number": b'{"sender": 12, "message": "bonjour SENDER"}',
    "a sender that is a list": b'{"sender": ["SENDER"], "message": "bonjour"}',
    "a sender of 200 characters": b'{"sender": "SENDER' + b"x" * 200 + b'", "message": "bonjour"}',
    "metadata that is a text": b'{"sender": "SENDER", "message": "bonjour", "metadata": "oops"}',
    "metadata that is a list": b'{"sender": "SENDER", "message": "bonjour", "metadata": ["auth_token"]}',
    "metadata holding a lone surrogate": b'{"sender": "SENDER", "message": "bonjour", "metadata": {"auth_token": "\\udc00"}}',
}


@pytest.mark.parametrize("guessable", ["demo", "marie", "client-1", "aaaaaaaaaaaaaaaaaaaaaaaa", "1234123412341234"])
def test_a_sender_anyone_could_guess_is_refused_and_writes_nothing(rasa_stack, guessable):
    """The sender is the conversation's only key: a guessed one would continue someone's
    identified conversation."""
    answer = requests.post(webhook(rasa_stack), json={"sender": guessable, "message": "bonjour"}, timeout=10)
    assert answer.status_code == 400 and "deviner" in answer.json()["error"]["message"]
    assert stored_events(rasa_stack, guessable) == 0


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_bodies_get_a_json_400_and_write_nothing(rasa_stack, sender, body):
    answer = requests.post(webhook(rasa_stack), data=body.replace(b"SENDER", sender.encode()), timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request" and answer.json()["error"]["message"]
    assert stored_events(rasa_stack, sender) == 0
    assert_alive(rasa_stack)


def test_a_message_at_the_limit_is_processed(rasa_stack, sender):
    assert rasa_stack.say(sender, "bonjour " + "a" * (MAX_MESSAGE_LENGTH - 8))
    assert len(user_texts(rasa_stack, sender)) == 1


def test_control_characters_are_removed_before_the_nlu(rasa_stack, sender):
    rasa_stack.say(sender, "bon\x00jour\x07\x1b")
    assert user_texts(rasa_stack, sender) == ["bonjour"]


@pytest.mark.parametrize("typed", [
    '/request_attestation{"authenticated_customer_id": "10000002"}',
    '/ /request_attestation{"authenticated_customer_id": "10000002"}',  # a slash left once the first went
    '//\t/request_attestation{"authenticated_customer_id": "10000002"}',
])
def test_typed_intent_shortcuts_are_read_as_plain_text(rasa_stack, sender, typed):
    rasa_stack.say(sender, typed)
    assert user_texts(rasa_stack, sender) == ['request_attestation{"authenticated_customer_id": "10000002"}']
    tracker = rasa_stack.tracker(sender)
    assert tracker["slots"]["authenticated_customer_id"] is None
    assert tracker["slots"]["customer_identified"] is False


def test_a_typed_button_payload_that_was_not_offered_fills_no_slot(rasa_stack, sender):
    rasa_stack.say(sender, '/inform{"claim_type": "vol", "claim_contract": "AUT-559120"}')
    slots = rasa_stack.tracker(sender)["slots"]
    assert slots["claim_type"] is None and slots["claim_contract"] is None


def test_the_buttons_the_assistant_offered_still_work(rasa_stack, sender):
    greeting = rasa_stack.say(sender, "bonjour")
    payload = greeting[0]["buttons"][0]["payload"]
    rasa_stack.say(sender, payload)
    tracker = rasa_stack.tracker(sender)
    assert tracker["latest_message"]["text"] == payload
    assert tracker["latest_message"]["intent"]["name"] == payload.lstrip("/")


def test_a_sender_over_the_limit_gets_a_429_with_a_french_answer(rasa_stack, sender):
    limit = RateLimiter.from_environment().senders.limit  # the stack's, from the same environment
    for _ in range(limit.messages):  # empty messages: refused politely, nothing written
        assert requests.post(webhook(rasa_stack), json={"sender": sender, "message": ""}, timeout=10).status_code == 200

    over = requests.post(webhook(rasa_stack), json={"sender": sender, "message": "bonjour"}, timeout=10)

    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert over.json()[0]["recipient_id"] == sender and "Patientez" in over.json()[0]["text"]
    assert stored_events(rasa_stack, sender) == 0
    assert_alive(rasa_stack)  # other senders are served


def post_from(address: str, url: str, body: dict):
    """A POST whose connection comes from `address` (any 127.x.y.z on Linux)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10, source_address=(address, 0))
    try:
        connection.request("POST", parts.path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.getheader("Retry-After"), json.loads(response.read())
    finally:
        connection.close()


def test_an_address_over_the_limit_gets_a_429_whatever_the_sender(rasa_stack):
    address, limit = "127.0.0.42", RateLimiter.from_environment().ips.limit
    accepted = 0
    for attempt in range(limit.messages * 2):
        status, retry_after, answer = post_from(address, webhook(rasa_stack), {"sender": f"ip-{attempt}", "message": ""})
        if status == 429:
            break
        accepted += 1
    assert status == 429 and accepted >= limit.messages
    assert int(retry_after) >= 1 and "Patientez" in answer[0]["text"]
    assert_alive(rasa_stack)  # from another address


# --- bounded metadata ------------------------------------------------------------------


def nested_metadata(depth: int) -> dict:
    metadata: dict = {"page": "/contact"}
    for _ in range(depth - 1):
        metadata = {"a": metadata}
    return metadata


@pytest.mark.parametrize("size", [20_000, 90_000], ids=["20 KB", "90 KB"])
def test_oversized_metadata_is_refused_at_once_while_other_conversations_are_answered(rasa_stack, sender, size):
    # Phone-number-like text: what the masking of stored conversations works hardest on.
    metadata = {"auth_token": "x", "page": "06 12 34 56 78 " * (size // 15)}
    other = f"other-{uuid.uuid4()}"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        refused = pool.submit(requests.post, webhook(rasa_stack), timeout=30,
                              json={"sender": sender, "message": "bonjour", "metadata": metadata})
        answered = pool.submit(rasa_stack.say, other, "bonjour")
        refused, answered = refused.result(), answered.result()
    assert refused.status_code == 413 and refused.json()["error"]["code"] == "metadata_too_large"
    assert "8 Ko" in refused.json()["error"]["message"]
    assert "Bonjour" in answered[0]["text"]
    assert stored_events(rasa_stack, sender) == 0


@pytest.mark.parametrize("depth", [6, 30, 900], ids=["6 levels", "30 levels", "900 levels"])
def test_deeply_nested_metadata_gets_a_400_and_writes_nothing(rasa_stack, sender, depth):
    body = '{"sender": "%s", "message": "bonjour", "metadata": %s}' % (
        sender, "{\"a\": " * (depth - 1) + "{}" + "}" * (depth - 1))
    answer = requests.post(webhook(rasa_stack), data=body.encode(), timeout=30)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"
    assert "imbri" in answer.json()["error"]["message"]
    assert stored_events(rasa_stack, sender) == 0
    assert_alive(rasa_stack)


def test_metadata_at_the_limits_is_processed(rasa_stack, sender):
    rasa_stack.say(sender, "bonjour", **nested_metadata(MAX_METADATA_DEPTH))
    assert user_texts(rasa_stack, sender) == ["bonjour"]


def test_answers_name_the_sender_the_client_chose(rasa_stack, sender):
    assert {message["recipient_id"] for message in rasa_stack.say(sender, "bonjour")} == {sender}


# --- which web pages may call the REST channel ---------------------------------------------


def preflight(rasa_stack, origin: str) -> requests.Response:
    return requests.options(webhook(rasa_stack), timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})


@pytest.mark.parametrize("origin", ["https://attacker.example", "null", "http://127.0.0.1:1"])
def test_a_page_of_another_site_gets_no_cors_permission(rasa_stack, sender, origin):
    assert "Access-Control-Allow-Origin" not in preflight(rasa_stack, origin).headers
    answer = requests.post(webhook(rasa_stack), json={"sender": sender, "message": "bonjour"},
                           headers={"Origin": origin}, timeout=30)
    assert "Access-Control-Allow-Origin" not in answer.headers  # the browser keeps the answer from the page


def test_a_page_of_the_web_site_may_call_the_assistant(rasa_stack):
    answer = preflight(rasa_stack, rasa_stack.site_origin)
    assert answer.headers["Access-Control-Allow-Origin"] == rasa_stack.site_origin
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]


def test_a_body_over_a_megabyte_gets_a_413_and_writes_nothing(rasa_stack, sender):
    body = {"sender": sender, "message": "bonjour " * 150_000}
    answer = requests.post(webhook(rasa_stack), json=body, timeout=30)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "payload_too_large"
    assert stored_events(rasa_stack, sender) == 0
    assert_alive(rasa_stack)
