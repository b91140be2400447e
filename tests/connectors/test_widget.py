"""What the widget channel replays after a page reload, which session ids it accepts, and how
often a client may open a session."""

import json
import logging
import queue

import pytest
import requests
import socketio
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from connectors import rate_limit
from connectors.widget import WidgetInput, _session_id, conversation_history
from tests.connectors.channel_server import ChannelServer

CLAIM_TYPES = [
    {"title": "Vol ou cambriolage", "payload": '/inform{"claim_type": "vol"}'},
    {"title": "Dégât des eaux", "payload": '/inform{"claim_type": "degat_des_eaux"}'},
]
PHOTO = {"upload_id": "a" * 32, "filename": "cuisine.jpg", "content_type": "image/jpeg", "size": 2048}


async def test_the_history_shows_what_each_side_said_in_order():
    events = [
        ActionExecuted("action_session_start"),
        UserUttered("bonjour"),
        BotUttered("Bonjour !\n\nQue puis-je faire pour vous ?"),
        SlotSet("customer_identified", True),
        UserUttered("je veux déclarer un sinistre"),
        BotUttered("De quel type ?", {"buttons": CLAIM_TYPES}),
    ]
    assert await conversation_history(events) == [
        {"sender": "user", "text": "bonjour"},
        # split into bubbles at blank lines, as the live channel sends them
        {"sender": "bot", "text": "Bonjour !"},
        {"sender": "bot", "text": "Que puis-je faire pour vous ?"},
        {"sender": "user", "text": "je veux déclarer un sinistre"},
        {
            "sender": "bot",
            "text": "De quel type ?",
            "quick_replies": [{"content_type": "text", **button} for button in CLAIM_TYPES],
        },
    ]


async def test_a_pressed_button_shows_its_title_not_its_payload():
    events = [
        BotUttered("De quel type ?", {"buttons": CLAIM_TYPES}),
        UserUttered('/inform{"claim_type": "degat_des_eaux"}'),
        UserUttered('/inform{"claim_type": "vol"}'),  # no longer offered: shown as sent
    ]
    users = [m["text"] for m in await conversation_history(events) if m["sender"] == "user"]
    assert users == ["Dégât des eaux", '/inform{"claim_type": "vol"}']


async def test_attached_files_show_their_names():
    events = [UserUttered("/attach_document", metadata={"attachments": [PHOTO], "auth_token": "x"})]
    assert await conversation_history(events) == [
        {"sender": "user", "files": [{"filename": "cuisine.jpg", "content_type": "image/jpeg"}]}
    ]


async def test_images_files_and_custom_payloads_are_replayed():
    document = {"type": "file", "payload": {"src": "https://docs.example/a.pdf", "name": "Attestation.pdf"}}
    events = [
        BotUttered(None, {"image": "https://img.example/plan.png"}),
        BotUttered("Votre attestation :", {"attachment": document}),
        BotUttered(None, {"custom": {"text": "personnalisé"}}),
    ]
    assert await conversation_history(events) == [
        {"sender": "bot", "attachment": {"type": "image", "payload": {"src": "https://img.example/plan.png"}}},
        {"sender": "bot", "text": "Votre attestation :"},
        {"sender": "bot", "attachment": document},
        {"sender": "bot", "custom": {"text": "personnalisé"}},
    ]


def test_a_well_formed_session_id_is_kept():
    assert _session_id("0123456789abcdef0123456789abcdef") == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "requested",
    [None, "", "33612345678", "test-sender", "../../etc", "0123456789ABCDEF0123456789ABCDEF", 42, {"id": 1},
     "0123456789abcdef0123456789abcdef\n"],
)
def test_any_other_session_id_gets_a_new_one(requested):
    new = _session_id(requested)
    assert new != requested and len(new) == 32 and int(new, 16) >= 0


# --- the socket's events, served for real ------------------------------------------------


@pytest.fixture
def widget_server():
    server = ChannelServer(WidgetInput.from_credentials(None)).start()
    yield server
    server.stop()


def test_session_requests_count_with_the_addresss_messages(widget_server, monkeypatch):
    # Each one reads the conversation and replays its history: never at will.
    monkeypatch.setattr(rate_limit, "_limiter", rate_limit.RateLimiter(rate_limit.Limit(100, 60),
                                                                       rate_limit.Limit(2, 60)))
    received: "queue.Queue" = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("session_confirm", "history", "bot_uttered"):
        client.on(name, lambda data=None, name=name: received.put((name, data)))
    client.connect(f"http://127.0.0.1:{widget_server.port}", transports=["polling"], socketio_path="/socket.io",
                   wait_timeout=20)
    try:
        answers = []
        for session_id in ("a" * 32, "b" * 32, "c" * 32):
            client.emit("session_request", {"session_id": session_id})
            answers.append(received.get(timeout=10))
            if answers[-1][0] == "session_confirm":
                assert received.get(timeout=10)[0] == "history"
        assert answers[:2] == [("session_confirm", "a" * 32), ("session_confirm", "b" * 32)]
        assert answers[2][0] == "bot_uttered" and "Patientez" in answers[2][1]["text"]
        # The refused request opened nothing: the socket is still in the last session opened.
        saved = widget_server.run(widget_server.channel.sio.get_session(client.get_sid()))
        assert saved["session_id"] == "b" * 32
    finally:
        client.eio.disconnect(abort=True)


def engine_io_socket(port: int) -> str:
    """A socket opened as a polling client opens it (engine.io, then socket.io); its sid."""
    url = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
    opened = requests.get(url, timeout=10).text
    sid = json.loads(opened[opened.index("{"):])["sid"]
    requests.post(f"{url}&sid={sid}", data="40", timeout=10)
    return sid


@pytest.mark.parametrize("body", ["\x1e".join(['42["user_uttered",{"message":"x"}]'] * 17), "9", "4\x1ez"],
                         ids=["17 packets in one request", "unknown packet type", "a bad packet among others"])
def test_a_request_engine_io_cannot_read_is_logged_in_one_line_without_a_stack_trace(widget_server, caplog, body):
    # engine.io logged each one as an unexpected error with its trace: anyone could fill the logs.
    sid = engine_io_socket(widget_server.port)
    caplog.set_level(logging.INFO, logger="engineio.server")

    answer = requests.post(f"http://127.0.0.1:{widget_server.port}/socket.io/?EIO=4&transport=polling&sid={sid}",
                           data=body, timeout=10)

    assert answer.status_code < 500
    logged = [r for r in caplog.records if r.name == "engineio.server"]
    assert logged and all(r.exc_info is None and r.levelno <= logging.WARNING for r in logged)
    assert widget_server.agent.received == []
