"""An adviser takes a conversation over live from the advisers' console (bot/advisers.py),
against the real stack: the Rasa server's adviser routes, a widget client, grants signed
as the policy service signs them."""

import time
import uuid
from datetime import timedelta
from typing import Any, Optional
from urllib.parse import quote

import pytest
import requests

from core.adviser_grant import HEADER, issue
from core.clock import now_utc
from tests.conftest import TEST_ADVISER_CONSOLE_TOKEN, TEST_ADVISER_GRANT_SECRET, TEST_SERVICES_API_TOKEN
from tests.dialogue.test_scale_out import production  # noqa: F401  (the two-replica stack)
from tests.dialogue.widget_client import WidgetClient, texts

ADVISER = "Camille Martin"
REFERENCE = "TRF-2026-000042"


def grant(conversation: str, scope: str = "write", *, secret: str = TEST_ADVISER_GRANT_SECRET,
          minutes_ago: float = 0) -> str:
    token, _ = issue(secret, adviser_login="conseiller", adviser_name=ADVISER, reference=REFERENCE,
                     conversation_id=conversation, channel=conversation.split(":")[0], scope=scope,
                     now=now_utc() - timedelta(minutes=minutes_ago))
    return token


def call(rasa_stack, conversation: str, action: str = "", *, grant_token: Any = "write",
         token: Optional[str] = TEST_ADVISER_CONSOLE_TOKEN, json: Any = None, after: Optional[float] = None,
         server: Optional[str] = None, grant_secret: str = TEST_ADVISER_GRANT_SECRET) -> requests.Response:
    """An adviser route of the conversation as the console calls it (GET without `action`),
    on `server` (default the stack's Rasa server)."""
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if grant_token in ("read", "write"):
        grant_token = grant(conversation, grant_token, secret=grant_secret)
    if grant_token is not None:
        headers[HEADER] = grant_token
    url = f"{server or rasa_stack.url}/advisers/conversations/{quote(conversation, safe='')}"
    if not action:
        return requests.get(url, headers=headers, params={} if after is None else {"after": after}, timeout=30)
    return requests.post(f"{url}/{action}", headers=headers, json=json, timeout=30)


def error_code(answer: requests.Response) -> str:
    return answer.json()["error"]["code"]


@pytest.fixture
def widget(rasa_stack):
    clients = []

    def connect() -> WidgetClient:
        clients.append(WidgetClient(rasa_stack.url))
        return clients[-1]

    yield connect
    for client in clients:
        client.close()


def slots(rasa_stack, client: WidgetClient) -> dict:
    return rasa_stack.tracker(client.session_id, "widget")["slots"]


def put_events(rasa_stack, conversation: str, events: list) -> None:
    """A conversation written through Rasa's own HTTP API (its token), for channels the test
    cannot speak on, or customers who wrote long ago."""
    answer = requests.put(f"{rasa_stack.url}/conversations/{conversation}/tracker/events",
                          params={"token": rasa_stack.api_token}, json=events, timeout=30)
    answer.raise_for_status()


def customer_said(text: str, channel: str, hours_ago: float) -> dict:
    return {"event": "user", "text": text, "input_channel": channel, "timestamp": time.time() - hours_ago * 3600,
            "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []}}


# --- the take-over, both directions live ------------------------------------------------


def test_an_adviser_takes_over_answers_live_and_gives_the_conversation_back(rasa_stack, widget):
    client = widget()
    client.open()
    assert "identifiant client" in texts(client.say("quels sont mes contrats"))
    conversation = f"widget:{client.session_id}"
    before = slots(rasa_stack, client)
    started = time.time()

    # Taken: the customer is told at once who joined; the assistant falls silent.
    taken = call(rasa_stack, conversation, "take")
    assert taken.status_code == 200 and taken.json() == {"paused": True}
    _, joined = client.next_event("bot_uttered")
    assert ADVISER in joined["text"] and "rejoint la conversation" in joined["text"]
    assert call(rasa_stack, conversation, "take").json() == {"paused": True}  # again: nothing more said

    # The customer's messages are stored, and nothing answers them (the typing indicator
    # goes off, no apology): not even the identification form waiting for a customer id.
    assert client.say("Bonjour, je voudrais parler de ma franchise") == []
    assert client.say("10000002") == []
    assert slots(rasa_stack, client) == before

    # The adviser writes: the widget shows it live.
    sent = call(rasa_stack, conversation, "messages", json={"text": "Bonjour, je regarde votre dossier."})
    assert sent.status_code == 200 and sent.json() == {"delivered": True}
    assert client.next_event("bot_uttered")[1] == {"text": "Bonjour, je regarde votre dossier.", "adviser": ADVISER}

    read = call(rasa_stack, conversation, grant_token="read", after=started)
    assert read.status_code == 200
    body = read.json()
    assert body["conversation_id"] == conversation and body["channel"] == "widget" and body["paused"] is True
    said = [(message["from"], message["text"]) for message in body["messages"]]
    assert said[0] == ("assistant", joined["text"])  # the assistant tells who joined
    assert ("customer", "Bonjour, je voudrais parler de ma franchise") in said
    assert said[-1] == ("adviser", "Bonjour, je regarde votre dossier.")
    assert [who for who, _ in said].count("assistant") == 1  # who joined, then the assistant is silent
    assert all(message["timestamp"] > started and message["at"][-6:] in ("+01:00", "+02:00")
               for message in body["messages"])
    # Only what came after the last one read (the console polls with it).
    assert call(rasa_stack, conversation, after=body["messages"][-1]["timestamp"]).json()["messages"] == []
    whole = call(rasa_stack, conversation).json()["messages"]
    assert whole[0] == {**whole[0], "from": "customer", "text": "quels sont mes contrats"}

    # A reloaded page shows the adviser's words too.
    history = widget().open(client.session_id)
    assert {"sender": "bot", "text": "Bonjour, je regarde votre dossier.", "adviser": ADVISER} in history

    # Closed: the customer is told, and the assistant takes it back where it was.
    closed = call(rasa_stack, conversation, "close")
    assert closed.status_code == 200 and closed.json() == {"paused": False}
    _, left = client.next_event("bot_uttered")
    assert f"{ADVISER} a quitté la conversation" in left["text"]
    assert slots(rasa_stack, client) == before
    assert "date de naissance" in texts(client.say("10000001"))
    assert call(rasa_stack, conversation, "close").json() == {"paused": False}  # again: nothing said
    assert call(rasa_stack, conversation).json()["paused"] is False


def test_a_customer_who_asked_hours_ago_is_still_the_adviser_s_when_they_write_again(rasa_stack, widget):
    """Rasa starts a new session (which would resume the conversation) an hour after the
    customer's last message: not while an adviser has it."""
    session = uuid.uuid4().hex
    conversation = f"widget:{session}"
    put_events(rasa_stack, conversation, [customer_said("je veux parler à un conseiller", "widget", hours_ago=2)])
    client = widget()
    client.open(session)
    assert call(rasa_stack, conversation, "take").json() == {"paused": True}
    client.next_event("bot_uttered")
    assert client.say("bonjour, vous êtes là ?") == []
    assert call(rasa_stack, conversation).json()["paused"] is True


# --- who may -----------------------------------------------------------------------------


@pytest.fixture
def conversation(rasa_stack, widget) -> str:
    client = widget()
    client.open()
    client.say("bonjour")
    return f"widget:{client.session_id}"


@pytest.mark.parametrize("token", [None, "", "wrong-token", TEST_SERVICES_API_TOKEN, TEST_ADVISER_CONSOLE_TOKEN + "x"])
@pytest.mark.parametrize("action", ["", "take", "messages", "close"])
def test_without_the_console_token_every_adviser_route_is_refused(rasa_stack, conversation, token, action):
    answer = call(rasa_stack, conversation, action, token=token, json={"text": "bonjour"})
    assert answer.status_code == 401 and error_code(answer) == "unauthorized"


@pytest.mark.parametrize("action", ["", "take", "messages", "close"])
def test_without_a_grant_for_the_conversation_nothing_is_read_nor_done(rasa_stack, conversation, action):
    other = grant("widget:" + "0" * 32)
    refusals = {
        None: "grant_required",
        "": "grant_required",
        "not.a.jwt": "grant_invalid",
        grant(conversation, secret="another-grant-secret-0123456789"): "grant_invalid",
        other: "grant_other_conversation",
        grant(conversation, minutes_ago=16): "grant_expired",
    }
    for grant_token, code in refusals.items():
        answer = call(rasa_stack, conversation, action, grant_token=grant_token, json={"text": "bonjour"})
        assert (answer.status_code, error_code(answer)) == (403, code), grant_token
    assert call(rasa_stack, conversation).json()["paused"] is False


@pytest.mark.parametrize("action", ["take", "messages", "close"])
def test_a_read_grant_acts_on_nothing(rasa_stack, conversation, action):
    answer = call(rasa_stack, conversation, action, grant_token="read", json={"text": "bonjour"})
    assert (answer.status_code, error_code(answer)) == (403, "grant_read_only")
    assert call(rasa_stack, conversation, grant_token="read").status_code == 200


def test_a_conversation_that_does_not_exist_is_not_created(rasa_stack):
    nobody = "widget:" + "f" * 32
    for action in ("take", "messages", "close", ""):  # still none after the others
        answer = call(rasa_stack, nobody, action, json={"text": "bonjour"})
        assert (answer.status_code, error_code(answer)) == (404, "not_found"), action


@pytest.mark.parametrize("body", [None, {}, {"text": ""}, {"text": "   "}, {"text": 12}, {"text": "x" * 2001},
                                  ["bonjour"], {"text": ["bonjour"]}])
def test_an_adviser_message_is_one_to_2000_characters(rasa_stack, conversation, body):
    assert call(rasa_stack, conversation, "take").status_code == 200
    answer = call(rasa_stack, conversation, "messages", json=body)
    assert (answer.status_code, error_code(answer)) == (422, "validation_error")


def test_an_oversized_body_is_refused(rasa_stack, conversation):
    call(rasa_stack, conversation, "take")
    answer = call(rasa_stack, conversation, "messages", json={"text": "x" * 2000, "pad": "y" * 20_000})
    assert answer.status_code == 413


def test_an_adviser_writes_only_in_a_conversation_taken_over(rasa_stack, conversation):
    answer = call(rasa_stack, conversation, "messages", json={"text": "bonjour"})
    assert (answer.status_code, error_code(answer)) == (409, "not_paused")


def test_a_bad_after_is_refused(rasa_stack, conversation):
    for after in ("yesterday", "nan", "inf"):
        answer = call(rasa_stack, conversation, after=after)
        assert (answer.status_code, error_code(answer)) == (422, "validation_error")


# --- channels that cannot be written to -------------------------------------------------


def test_a_rest_conversation_cannot_be_taken_over(rasa_stack):
    sender = "adviser-rest-0123456789abcdef"
    rasa_stack.say(sender, "bonjour")
    conversation = f"rest:{sender}"
    answer = call(rasa_stack, conversation, "take")
    assert (answer.status_code, error_code(answer)) == (409, "channel_unreachable")
    # Nothing changed: the assistant still answers.
    assert call(rasa_stack, conversation).json()["paused"] is False
    assert texts(rasa_stack.say(sender, "bonjour"))


@pytest.mark.parametrize("channel, hours_ago, code", [
    ("ivr", 0, "channel_unreachable"),
    ("whatsapp", 1, "channel_unreachable"),  # its recipient is not known yet
    ("whatsapp", 25, "outside_window"),
    ("messenger", 25, "outside_window"),
    ("telegram", 25, "channel_unreachable"),  # no 24-hour window on Telegram
])
def test_channels_the_console_cannot_write_to_refuse_the_take_over(rasa_stack, channel, hours_ago, code):
    conversation = f"{channel}:adviser-{channel}-{hours_ago}-{time.time_ns()}"
    put_events(rasa_stack, conversation, [customer_said("bonjour", channel, hours_ago)])
    for action in ("take", "messages"):
        answer = call(rasa_stack, conversation, action, json={"text": "bonjour"})
        assert (answer.status_code, error_code(answer)) == (409, "not_paused" if action == "messages" else code)
    read = call(rasa_stack, conversation).json()
    assert read["channel"] == channel and read["paused"] is False


# --- two replicas -----------------------------------------------------------------------


def test_the_adviser_reaches_a_widget_connected_to_the_other_replica(production):  # noqa: F811
    """The console reaches whichever replica the balancer picks; the widget's socket is on the
    other: the messages go through Redis (connectors.widget), the pause through the shared
    tracker store, under the lock store's lock."""
    first, second = production.rasa_urls
    secrets = {"token": production.env["ADVISER_CONSOLE_TOKEN"], "grant_secret": production.env["ADVISER_GRANT_SECRET"]}
    client = WidgetClient(first)
    try:
        client.open()
        assert texts(client.say("bonjour"))
        conversation = f"widget:{client.session_id}"

        assert call(None, conversation, "take", server=second, **secrets).json() == {"paused": True}
        assert ADVISER in client.next_event("bot_uttered")[1]["text"]
        assert client.say("vous êtes là ?") == []  # the first replica leaves it to the adviser
        sent = call(None, conversation, "messages", server=second, json={"text": "Oui, je suis là."}, **secrets)
        assert sent.json() == {"delivered": True}
        assert client.next_event("bot_uttered")[1] == {"text": "Oui, je suis là.", "adviser": ADVISER}
        read = call(None, conversation, grant_token="read", server=first, **secrets).json()
        assert [m["from"] for m in read["messages"]][-3:] == ["assistant", "customer", "adviser"]

        assert call(None, conversation, "close", server=second, **secrets).json() == {"paused": False}
        assert "a quitté la conversation" in client.next_event("bot_uttered")[1]["text"]
        assert texts(client.say("merci"))
    finally:
        client.close()
