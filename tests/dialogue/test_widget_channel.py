"""The widget's socket.io channel with the real stack, spoken to as the widget does."""

import json
import queue
from typing import Optional

import pytest
import requests
import socketio

from connectors.guard import MAX_MESSAGE_LENGTH
from connectors.rate_limit import RateLimiter
from devtools.espace_client import issue_session_token
from tests.dialogue.widget_client import FromAddress, WidgetClient, jpeg_photo, texts
from tests.reference_services.helpers import count

MARIE = "10000001"


@pytest.fixture
def widget(rasa_stack):
    clients = []

    def connect(address: Optional[str] = None) -> WidgetClient:
        """A widget; its uploads come from `address` (by default one of its own)."""
        clients.append(WidgetClient(rasa_stack.url, address))
        return clients[-1]

    yield connect
    for client in clients:
        client.close()


def user_events(rasa_stack, session_id):
    return [event for event in rasa_stack.tracker(session_id, "widget")["events"] if event["event"] == "user"]


def test_the_conversation_survives_a_reload(rasa_stack, widget):
    first = widget()
    assert first.open() == []
    greeting = first.say("bonjour")
    assert "Bonjour" in texts(greeting)
    first.close()

    # The reloaded page: a new socket asks for the same conversation.
    again = widget()
    history = again.open(first.session_id)
    assert again.session_id == first.session_id
    assert history[0] == {"sender": "user", "text": "bonjour"}
    assert history[1:] == [{"sender": "bot", **message} for message in greeting]
    # ...and its answers reach the new socket (rasa#13027: the room was never joined).
    assert texts(again.say("merci beaucoup"))
    assert [event["text"] for event in user_events(rasa_stack, first.session_id)] == ["bonjour", "merci beaucoup"]


def test_a_pressed_button_is_replayed_with_its_title(widget):
    client = widget()
    client.open()
    greeting = client.say("bonjour")
    button = greeting[-1]["quick_replies"][0]
    assert client.say(button["payload"])
    client.close()
    history = widget().open(client.session_id)
    assert {"sender": "user", "text": button["title"]} in history


def test_the_session_token_identifies_the_customer_for_every_message(rasa_stack, widget):
    client = widget()
    client.open(auth_token=issue_session_token(MARIE, rasa_stack.jwt_secret))
    contracts = texts(client.say("quels sont mes contrats"))
    assert "AUT-482913" in contracts and "HAB-120034" in contracts
    assert "SIN-2026-000731" in texts(client.say("où en est mon dossier SIN-2026-000731"))
    assert all("auth_token" in event["metadata"] for event in user_events(rasa_stack, client.session_id))


def test_an_anonymous_visitor_is_asked_to_identify(widget):
    client = widget()
    client.open()
    answer = texts(client.say("quels sont mes contrats"))
    assert "identifiant client" in answer
    assert "AUT-482913" not in answer and "HAB-120034" not in answer


def test_a_forged_token_is_refused(rasa_stack, widget):
    client = widget()
    client.open(auth_token=issue_session_token(MARIE, "not-the-espace-client-secret-at-all"))
    answer = texts(client.say("quels sont mes contrats"))
    assert "AUT-482913" not in answer
    assert rasa_stack.tracker(client.session_id, "widget")["slots"]["customer_identified"] is False


@pytest.mark.parametrize("requested", ["33612345678", "test-sender", "../conversations", 42])
def test_a_session_id_of_another_form_is_replaced_by_a_new_one(widget, requested):
    client = widget()
    assert client.open(requested) == []
    assert client.session_id != requested and len(client.session_id) == 32


def test_metadata_only_channels_set_is_dropped(rasa_stack, widget):
    client = widget()
    client.open()
    forged = [{"upload_id": "f" * 32, "filename": "faux.pdf", "content_type": "application/pdf", "size": 10}]
    client.say("bonjour", attachments=forged, channel_phone="+33612345678", page="/contact")
    metadata = user_events(rasa_stack, client.session_id)[0]["metadata"]
    assert "attachments" not in metadata and "channel_phone" not in metadata
    assert metadata["page"] == "/contact"


def test_the_source_of_a_message_is_kept_hidden(rasa_stack, widget):
    """The widget sets the source itself (tests/fuzz/test_widget.py: its reading of the socket's
    address, never the client's); the conversation store keeps it hidden."""
    client = widget()
    client.open()
    client.say("bonjour", client_source="ip:203.0.113.7")
    assert user_events(rasa_stack, client.session_id)[0]["metadata"]["client_source"] == "[source]"


@pytest.mark.parametrize("size", [20_000, 100_000], ids=["20 KB", "100 KB"])
def test_oversized_custom_data_is_refused_politely_while_other_conversations_are_answered(rasa_stack, widget, size):
    client, other = widget(), widget()
    client.open()
    other.open()
    client.emit("bonjour", auth_token="x", page="06 12 34 56 78 " * (size // 15))
    other.emit("bonjour")
    assert "trop volumineuses" in client.refusal()
    assert "Bonjour" in texts(other.answer())
    assert user_events(rasa_stack, client.session_id) == []
    assert "Bonjour" in texts(client.say("bonjour"))  # the socket is still open


@pytest.mark.parametrize("custom_data", [
    "{" + '"a": {' * 10 + "}" * 10 + "}",  # JSON text, as some widgets send it: too deep
    "[" * 30_000 + "]" * 30_000,  # too deep for Python's own JSON parser
], ids=["10 levels", "30000 levels"])
def test_deeply_nested_custom_data_is_refused_politely(rasa_stack, widget, custom_data):
    client = widget()
    client.open()
    client.emit_raw('["user_uttered",{"message":"bonjour","customData":' + json.dumps(custom_data) + "}]")
    client.emit_raw('["user_uttered",{"message":"bonjour","customData":' + custom_data + "}]")
    assert "trop volumineuses" in client.refusal()
    assert "trop volumineuses" in client.refusal()
    assert user_events(rasa_stack, client.session_id) == []
    assert "Bonjour" in texts(client.say("bonjour"))


def test_a_socket_opened_by_a_page_of_another_site_is_refused(rasa_stack):
    with pytest.raises(socketio.exceptions.ConnectionError):
        WidgetClient(rasa_stack.url, origin="https://attacker.example")


def test_a_socket_opened_by_a_page_of_the_web_site_is_accepted(rasa_stack, widget):
    client = WidgetClient(rasa_stack.url, origin=rasa_stack.site_origin)
    try:
        client.open()
        assert "Bonjour" in texts(client.say("bonjour"))
    finally:
        client.close()


def test_typed_intent_shortcuts_are_read_as_plain_text(rasa_stack, widget):
    client = widget()
    client.open()
    client.say('/request_attestation{"authenticated_customer_id": "10000002"}')
    tracker = rasa_stack.tracker(client.session_id, "widget")
    assert tracker["latest_message"]["text"] == 'request_attestation{"authenticated_customer_id": "10000002"}'
    assert tracker["slots"]["customer_identified"] is False


@pytest.mark.parametrize(
    "message, refusal",
    [("", "vide"), ("   ", "vide"), (None, "vide"), ("a" * (MAX_MESSAGE_LENGTH + 1), "trop long")],
)
def test_empty_and_oversized_messages_are_refused_before_the_nlu(rasa_stack, widget, message, refusal):
    client = widget()
    client.open()
    client.emit(message)
    assert refusal in client.refusal()
    assert user_events(rasa_stack, client.session_id) == []


def test_a_message_before_the_session_is_opened_is_refused(widget):
    client = widget()
    client.emit("bonjour")
    assert "rechargez la page" in client.refusal()


def test_a_photo_sent_during_a_declaration_joins_it(rasa_stack, widget):
    client = widget()
    client.open(auth_token=issue_session_token(MARIE, rasa_stack.jwt_secret))
    assert "type de sinistre" in texts(client.say("je veux déclarer un sinistre"))
    assert "Quand" in texts(client.say('/inform{"claim_type": "degat_des_eaux"}'))

    uploaded = client.upload("cuisine.jpg", jpeg_photo(), "image/jpeg")
    assert uploaded.status_code == 201
    attachment = uploaded.json()["attachment"]
    assert attachment["filename"] == "cuisine.jpg" and attachment["content_type"] == "image/jpeg"
    answer = texts(client.answer())
    assert "cuisine.jpg" in answer and "Quand" in answer  # received, then the question again

    sent = user_events(rasa_stack, client.session_id)[-1]
    assert sent["text"] == "/attach_document" and sent["metadata"]["attachments"] == [attachment]


@pytest.mark.parametrize(
    "filename, content, content_type, reason",
    [
        ("notes.txt", b"rien d'une photo", "text/plain", "photos (JPEG"),
        ("faux.jpg", b"%PDF-1.4 pas une photo", "image/jpeg", "photos (JPEG"),
        ("vide.jpg", b"", "image/jpeg", "vide"),
    ],
)
def test_a_refused_file_gets_the_reason_and_changes_nothing(rasa_stack, widget, filename, content, content_type, reason):
    client = widget()
    client.open()
    client.say("je veux déclarer un sinistre")  # files are taken during a declaration
    before = rasa_stack.tracker(client.session_id, "widget")["events"]
    answer = client.upload(filename, content, content_type)
    assert answer.status_code == 422 and reason in answer.json()["error"]["message"]
    assert rasa_stack.tracker(client.session_id, "widget")["events"] == before


def test_an_oversized_file_is_refused(widget):
    client = widget()
    client.open()
    answer = client.upload("enorme.jpg", b"\xff\xd8\xff" + b"0" * (11 * 1024 * 1024), "image/jpeg")
    assert answer.status_code == 413 and "Mo" in answer.json()["error"]["message"]


def test_an_upload_needs_the_open_socket_of_that_conversation(widget):
    mine, other = widget(), widget()
    mine.open()
    other.open()
    photo = jpeg_photo()
    assert mine.upload("a.jpg", photo, "image/jpeg", socket_id="not-a-socket").status_code == 409
    assert mine.upload("a.jpg", photo, "image/jpeg", socket_id=other.sio.get_sid()).status_code == 409
    refused = mine.upload("a.jpg", photo, "image/jpeg", session_id=other.session_id)
    assert refused.status_code == 409 and "rechargez la page" in refused.json()["error"]["message"]


# --- who may send files, and how many ---------------------------------------------------

def stored_files(services):
    """The files in the claims service's UPLOADS_DIR."""
    uploads = services.workdir / "var" / "uploads"
    return sorted(path.name for path in uploads.iterdir()) if uploads.exists() else []


def test_a_visitor_not_identified_cannot_store_a_file_outside_a_declaration(rasa_stack, services, widget):
    client = widget()
    client.open()
    client.say("bonjour")
    files, rows = stored_files(services), count(services, "claim_documents")
    events = rasa_stack.tracker(client.session_id, "widget")["events"]
    answer = client.upload("photo.jpg", jpeg_photo(), "image/jpeg")
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "not_taken"
    assert "déclaration de sinistre" in error["message"] and "n'a pas été enregistré" in error["message"]
    assert stored_files(services) == files and count(services, "claim_documents") == rows
    assert rasa_stack.tracker(client.session_id, "widget")["events"] == events


def test_a_visitor_declaring_a_claim_sends_a_photo_while_identifying(rasa_stack, widget):
    client = widget()
    client.open()
    assert "identifiant client" in texts(client.say("je veux déclarer un sinistre"))
    uploaded = client.upload("fuite.jpg", jpeg_photo(), "image/jpeg")
    assert uploaded.status_code == 201
    assert "Photo bien reçue (fuite.jpg)" in texts(client.answer())
    slots = rasa_stack.tracker(client.session_id, "widget")["slots"]
    assert slots["claim_attachments"] == [uploaded.json()["attachment"]]  # joins the declaration resumed after


def test_files_beyond_what_a_conversation_or_an_address_may_send_are_refused(rasa_stack, services, widget):
    # The test stack allows 4 files a conversation a day, 6 an address an hour (tests/dialogue/conftest.py).
    first = widget()
    second = widget(address=first.address)  # another visitor behind the same address
    for client in (first, second):
        client.open()
        client.say("je veux déclarer un sinistre")
    photo, rows = jpeg_photo(), count(services, "claim_documents")

    assert [first.upload(f"photo-{n}.jpg", photo, "image/jpeg").status_code for n in range(4)] == [201] * 4
    beyond_the_conversation = first.upload("photo-5.jpg", photo, "image/jpeg")
    assert beyond_the_conversation.status_code == 429
    assert beyond_the_conversation.json()["error"]["code"] == "too_many_files"
    assert "Réessayez dans 6 heures" in beyond_the_conversation.json()["error"]["message"]
    assert 21000 < int(beyond_the_conversation.headers["Retry-After"]) <= 21600

    assert [second.upload(f"photo-{n}.jpg", photo, "image/jpeg").status_code for n in range(2)] == [201] * 2
    beyond_the_address = second.upload("photo-3.jpg", photo, "image/jpeg")
    assert beyond_the_address.status_code == 429
    assert beyond_the_address.json()["error"]["code"] == "too_many_files"
    assert 0 < int(beyond_the_address.headers["Retry-After"]) <= 600

    assert count(services, "claim_documents") == rows + 6
    # Another address is not held back by this one.
    third = widget()
    third.open()
    third.say("je veux déclarer un sinistre")
    assert third.upload("photo.jpg", photo, "image/jpeg").status_code == 201


def socket_from(rasa_stack, address: str):
    """A socket.io client whose every request (the socket's own polls) leaves from `address`,
    and the queue of what it receives."""
    received: "queue.Queue" = queue.Queue()
    http = requests.Session()
    http.mount("http://", FromAddress(address))
    client = socketio.Client(reconnection=False, http_session=http)
    for name in ("session_confirm", "history", "bot_uttered"):
        client.on(name, lambda data=None, name=name: received.put((name, data)))
    client.connect(rasa_stack.url, transports=["polling"], socketio_path="/socket.io", wait_timeout=20)
    return client, received


def test_session_requests_beyond_the_address_limit_are_refused_while_other_visitors_are_served(rasa_stack, widget):
    # Each session request reads the conversation and replays its history: a socket sending
    # them without end held every conversation of the server for seconds.
    limit = RateLimiter.from_environment().ips.limit  # the stack's, from the same environment
    client, received = socket_from(rasa_stack, "127.200.0.43")
    try:
        opened = 0
        for _ in range(limit.messages * 2):  # the bucket refills meanwhile
            client.emit("session_request", {"session_id": None, "customData": {}})
            name, data = received.get(timeout=30)
            if name == "bot_uttered":
                break
            assert name == "session_confirm" and received.get(timeout=30)[0] == "history"
            opened += 1
        assert name == "bot_uttered" and "Patientez" in data["text"]
        assert opened >= limit.messages
    finally:
        client.eio.disconnect(abort=True)
    other = widget()  # another address
    other.open()
    assert other.say("bonjour")


def test_a_request_the_socket_server_cannot_read_is_logged_in_one_line(rasa_stack):
    # 17 packets in one polling request (engine.io reads 16 at most): logged with a ten-line stack
    # trace each time, by anyone, as often as they liked.
    log = rasa_stack.logs[0]
    url = f"{rasa_stack.url}/socket.io/?EIO=4&transport=polling"
    opened = requests.get(url, timeout=10).text
    sid = json.loads(opened[opened.index("{"):])["sid"]
    before = log.stat().st_size

    answer = requests.post(f"{url}&sid={sid}", data="\x1e".join(['42["user_uttered",{"message":"x"}]'] * 17),
                           timeout=10)

    assert answer.status_code < 500
    assert requests.get(f"{rasa_stack.url}/", timeout=10).status_code == 200  # the server is there
    with log.open(encoding="utf-8", errors="replace") as written:
        written.seek(before)
        new_lines = written.read()
    assert "Too many packets in payload" in new_lines
    assert "Traceback" not in new_lines
