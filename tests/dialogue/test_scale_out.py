"""The production configuration on loopback (harness.stack.start_production): PostgreSQL
for the services and the conversations, Redis lock store, two Rasa replicas and two
action servers behind nginx. One conversation is shared by both replicas."""
import concurrent.futures
import io
import json
import re
import threading
import time
import uuid

import pytest
import requests
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from bench.conversations import CLAIM_DECLARATION, MARIE
from connectors.guard import conversation_id
from connectors.messaging import pseudonym
from connectors.rate_limit import DEFAULT_PER_SENDER, Limit
from devtools.espace_client import issue_session_token
from harness.engines import missing_engines
from harness.stack import start_production
from tests.dialogue.conftest import TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN
from tests.dialogue.messaging_user import unique_id
from tests.dialogue.widget_client import WidgetClient, jpeg_photo

MISSING = missing_engines()
UPLOAD_FILES_PER_CONVERSATION = "3/86400"
UPLOAD_FILES_PER_ADDRESS = "4/3600"


@pytest.fixture(scope="module")
def production(trained_model, tmp_path_factory, messaging_platform):
    if MISSING:
        pytest.skip(f"Debian packages not installed: {', '.join(MISSING)}")
    environment = pytest.MonkeyPatch()
    for name, value in (
        # The Telegram channel on, talking to the fake platform API.
        ("TELEGRAM_BOT_TOKEN", TELEGRAM_BOT_TOKEN), ("TELEGRAM_SECRET_TOKEN", TELEGRAM_SECRET_TOKEN),
        ("TELEGRAM_API_URL", messaging_platform.url),
        # Upload allowances small enough to go beyond in a few files.
        ("UPLOAD_FILES_PER_CONVERSATION", UPLOAD_FILES_PER_CONVERSATION),
        ("UPLOAD_FILES_PER_ADDRESS", UPLOAD_FILES_PER_ADDRESS),
    ):
        environment.setenv(name, value)
    try:
        stack = start_production(trained_model, tmp_path_factory.mktemp("production"), replicas=2, action_servers=2)
    finally:
        environment.undo()
    yield stack
    stack.stop()


def say(url, sender, text, token):
    answer = requests.post(f"{url}/webhooks/rest/webhook", timeout=30,
                           json={"sender": sender, "message": text, "metadata": {"auth_token": token}})
    answer.raise_for_status()
    return answer.json()


def stored_events(production, sender):
    """The conversation's rows in the PostgreSQL tracker store, in the order they were written."""
    engine = create_engine(production.env["TRACKER_STORE_URL"])
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, type_name, data FROM events WHERE sender_id = :sender ORDER BY id"),
                {"sender": conversation_id("rest", sender)})
            return [(row.type_name, json.loads(row.data)) for row in rows]
    finally:
        engine.dispose()


def turns_of(events):
    """The stored events cut into turns: each user message with what followed it."""
    turns = []
    for type_name, data in events:
        if type_name == "user":
            turns.append([])
        if turns:
            turns[-1].append((type_name, data))
    return turns


def ends_listening(turn):
    last = turn[-1][1]
    return (last["event"], last.get("name")) == ("action", "action_listen")


def test_a_conversation_whose_turns_alternate_between_replicas_keeps_every_event_once_in_order(production):
    replicas = production.rasa_urls
    assert len(replicas) == 2
    sender, token = f"scale-{uuid.uuid4()}", issue_session_token(MARIE, production.jwt_secret)
    answers = []
    for number, turn in enumerate(CLAIM_DECLARATION.turns):
        messages = say(replicas[number % 2], sender, turn.text, token)
        answer = "\n".join(message.get("text", "") for message in messages)
        assert turn.expect.search(answer), f"turn {number} ({turn.text!r}) answered {answer!r}"
        answers.append(messages)
    claim_number = re.search(r"SIN-\d{4}-\d{6}", "\n".join(m.get("text", "") for m in answers[-1])).group(0)

    events = stored_events(production, sender)
    users = [data["text"] for type_name, data in events if type_name == "user"]
    assert users == [turn.text for turn in CLAIM_DECLARATION.turns]
    # Each turn's answers stored once, in the order the customer got them, and the
    # turn closed by listening for the next message.
    for turn, messages in zip(turns_of(events), answers, strict=False):
        assert len([1 for type_name, _ in turn if type_name == "bot"]) == len(messages)
        assert ends_listening(turn)
    # Both replicas read the same conversation.
    trackers = [requests.get(f"{url}/conversations/{conversation_id('rest', sender)}/tracker",
                             params={"token": production.api_token}, timeout=10).json() for url in replicas]
    assert trackers[0]["events"] == trackers[1]["events"]
    assert trackers[0]["slots"]["customer_identified"] is True
    # Read with the identity assertion the conversation holds: the service token alone reads nothing.
    claim = requests.get(f"{production.env['CLAIMS_SERVICE_URL']}/v1/customers/{MARIE}/claims/{claim_number}",
                         headers={"Authorization": f"Bearer {production.env['SERVICES_API_TOKEN']}",
                                  "X-Identity-Assertion": trackers[0]["slots"]["identity_assertion"]}, timeout=10)
    assert claim.status_code == 200 and claim.json()["contract_number"] == "HAB-120034"


def test_messages_of_one_conversation_sent_at_once_to_both_replicas_are_handled_one_after_the_other(production):
    sender, token = f"scale-{uuid.uuid4()}", issue_session_token(MARIE, production.jwt_secret)
    say(production.rasa_urls[0], sender, "bonjour", token)
    texts = ["j'ai oublié mon mot de passe", "mon compte est bloqué"]
    together = threading.Barrier(2)

    def send(replica, text):
        together.wait()
        return say(replica, sender, text, token)

    answers = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(3):
            answers += pool.map(send, production.rasa_urls, texts)
    turns = turns_of(stored_events(production, sender))[1:]
    assert len(turns) == 6 and all(answers)
    # The lock store kept the turns whole: one user message each, its answers, the
    # turn closed by listening; and each turn began once the one before was over.
    for turn in turns:
        assert [type_name for type_name, _ in turn].count("user") == 1 and ends_listening(turn)
    spans = [(min(data["timestamp"] for _, data in turn), max(data["timestamp"] for _, data in turn))
             for turn in turns]
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:], strict=False))
    assert sorted(len([1 for t, _ in turn if t == "bot"]) for turn in turns) == sorted(len(a) for a in answers)


def test_the_load_balancer_serves_a_whole_conversation_with_its_document(production):
    sender, token = f"scale-{uuid.uuid4()}", issue_session_token(MARIE, production.jwt_secret)
    answer = "\n".join(m.get("text", "") for m in say(production.url, sender,
                                                       "il me faut une attestation d'assurance pour ma voiture", token))
    link = re.search(r"https?://\S+", answer).group(0)
    pdf = requests.get(link, timeout=10)
    assert pdf.status_code == 200
    assert "AUT-482913" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)


def test_one_sender_spreading_messages_over_both_replicas_gets_the_limit_once(production):
    """The replicas count in Redis together: alone, each would let the whole limit through."""
    limit = Limit.parse(production.env.get("RATE_LIMIT_PER_SENDER") or DEFAULT_PER_SENDER, "RATE_LIMIT_PER_SENDER")
    sender = f"scale-{uuid.uuid4()}"

    def status(number):
        return requests.post(f"{production.rasa_urls[number % 2]}/webhooks/rest/webhook", timeout=30,
                             json={"sender": sender, "message": "bonjour"}).status_code

    assert [status(number) for number in range(limit.messages)] == [200] * limit.messages
    assert status(limit.messages) == 429 and status(limit.messages + 1) == 429


def test_a_telegram_update_redelivered_to_the_other_replica_is_handled_once(production, messaging_platform):
    chat = {"id": int(unique_id() % 10**9), "first_name": "Karim", "type": "private"}
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET_TOKEN}

    def update(text):
        return json.dumps({"update_id": unique_id(), "message": {
            "message_id": unique_id(), "from": {"id": chat["id"], "is_bot": False, "first_name": "Karim"},
            "chat": chat, "date": int(time.time()), "text": text}}).encode()

    def replies():
        return [call for call in messaging_platform.sent(f"/bot{TELEGRAM_BOT_TOKEN}/sendMessage")
                if call.json.get("chat_id") == chat["id"]]

    conversation = pseudonym(TELEGRAM_SECRET_TOKEN, "telegram", str(chat["id"]))

    def user_messages():
        tracker = requests.get(f"{production.rasa_urls[0]}/conversations/{conversation}/tracker",
                               params={"token": production.api_token}, timeout=10).json()
        return [event["text"] for event in tracker["events"] if event["event"] == "user"]

    def deliver(replica, body):
        answer = requests.post(f"{production.rasa_urls[replica]}/webhooks/telegram/webhook", data=body,
                               headers=headers, timeout=10)
        assert answer.status_code == 200

    first = update("bonjour")
    deliver(0, first)
    messaging_platform.wait_for(lambda: user_messages() == ["bonjour"] and replies(), seconds=60)
    deliver(1, first)  # redelivered, to the other replica
    deliver(1, update("merci beaucoup"))
    # Replica 2 handles one user's messages in their order: once the later one is stored,
    # the redelivered one was dropped or handled before it.
    messaging_platform.wait_for(lambda: "merci beaucoup" in user_messages(), seconds=60)
    assert user_messages() == ["bonjour", "merci beaucoup"]


def test_files_spread_over_both_replicas_are_refused_beyond_one_allowance(production):
    """The replicas count uploads in Redis together: alone, each would take 3 files of the
    conversation and 4 of the address (UPLOAD_FILES_PER_*, set for this stack)."""
    clients = []

    def widget(replica, address=None, session_id=None):
        client = WidgetClient(production.rasa_urls[replica], address=address)
        clients.append(client)
        client.open(session_id=session_id)
        if session_id is None:
            client.say("je veux déclarer un sinistre")  # files are taken during a declaration
        return client

    def upload(client):
        answer = client.upload("photo.jpg", photo, "image/jpeg")
        if answer.status_code == 201:
            client.answer()  # the photo's turn over before the next file
        return answer

    photo = jpeg_photo()
    try:
        on_first = widget(0)
        on_second = widget(1, on_first.address, on_first.session_id)  # the same conversation, on the other replica
        assert [upload(client).status_code for client in (on_first, on_second, on_first)] == [201] * 3
        for client in (on_second, on_first):
            refused = upload(client)
            assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_files"
            assert 0 < int(refused.headers["Retry-After"]) <= 86400 // 3

        # The address's fourth file, in another conversation, then none on either replica.
        assert upload(widget(1, on_first.address)).status_code == 201
        refused = upload(widget(0, on_first.address))
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_files"
        assert 0 < int(refused.headers["Retry-After"]) <= 3600 // 4
    finally:
        for client in clients:
            client.close()
