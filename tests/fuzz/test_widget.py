"""The widget's socket.io events (connectors.widget) served for real, from any data a socket.io
client can send: `session_request` is confirmed with a well-formed session id or politely
refused, `user_uttered` gets an answer, only screened text and bounded metadata reach the
assistant, no handler fails, and the socket keeps working after any packet."""
import json
import logging
import queue
import re
import uuid
from typing import Any, List, Tuple

import pytest
import requests
import socketio
from hypothesis import example, given, settings
from hypothesis import strategies as st

from connectors.guard import MAX_MESSAGE_LENGTH, screen_text
from connectors.widget import MAX_TOKEN_LENGTH, WidgetInput
from tests.connectors.channel_server import ChannelServer
from tests.fuzz.storing_agent import StoringAgent
from tests.fuzz.strategies import deep_json, hostile_text, huge_text, json_values, shortcut_text, wide_json

SESSION_ID = re.compile(r"[0-9a-f]{32}")
ANSWER_TIMEOUT_SECONDS = 10  # an example waits at most this for each answer (deadline: 15 s)
# Loggers where a failing socket.io handler or widget message is reported.
HANDLER_LOGGERS = ("engineio.server", "socketio.server", "connectors.widget")

socket_values = json_values | st.binary(max_size=50)  # socket.io carries binary too
custom_data = socket_values | st.fixed_dictionaries(
    {"auth_token": hostile_text | socket_values},
    optional={"attachments": socket_values, "channel_phone": socket_values, "client_source": socket_values},
)
session_requests = socket_values | st.fixed_dictionaries({}, optional={
    "session_id": st.none() | st.from_regex(SESSION_ID, fullmatch=True) | hostile_text | socket_values,
    "customData": custom_data | json_values.map(str),
})
messages = st.sampled_from(["bonjour", "/greet", '/inform{"claim_type": "vol"}']) | hostile_text | huge_text \
    | shortcut_text | socket_values
user_uttered = socket_values | st.fixed_dictionaries({}, optional={"message": messages, "customData": custom_data})


class Recorder(logging.Handler):
    """Errors logged by the socket.io server while handling an event."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Widget:
    """A socket.io client talking to the widget channel as the widget does (long-polling)."""

    def __init__(self, server: ChannelServer) -> None:
        self.events: "queue.Queue[Tuple[str, Any]]" = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        for name in ("session_confirm", "history", "bot_uttered", "bot_typing"):
            self.sio.on(name, lambda data=None, name=name: self.events.put((name, data)))
        self.sio.connect(f"http://127.0.0.1:{server.port}", transports=["polling"], socketio_path="/socket.io",
                         wait_timeout=20)

    def next_event(self) -> Tuple[str, Any]:
        return self.events.get(timeout=ANSWER_TIMEOUT_SECONDS)

    def open(self) -> str:
        """A new conversation; what earlier events still had to say is skipped."""
        session_id = uuid.uuid4().hex
        self.sio.emit("session_request", {"session_id": session_id})
        while self.next_event() != ("session_confirm", session_id):
            pass
        assert self.next_event()[0] == "history"
        return session_id

    def close(self) -> None:
        self.sio.eio.disconnect(abort=True)


@pytest.fixture(scope="module")
def server(generous_rate_limits):
    running = ChannelServer(WidgetInput.from_credentials(None), StoringAgent()).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def widget(server):
    client = Widget(server)
    yield client
    client.close()


@pytest.fixture(scope="module")
def handler_errors():
    recorder = Recorder()
    for name in HANDLER_LOGGERS:
        logging.getLogger(name).addHandler(recorder)
    yield recorder.records
    for name in HANDLER_LOGGERS:
        logging.getLogger(name).removeHandler(recorder)


def kept_or_new(requested: Any, confirmed: str) -> bool:
    """A requested id of the documented form is kept; any other request gets a new one."""
    if isinstance(requested, str) and SESSION_ID.fullmatch(requested):
        return confirmed == requested
    return SESSION_ID.fullmatch(confirmed) is not None and confirmed != requested


@settings(max_examples=40, deadline=15_000)
@given(data=session_requests)
@example(data={"session_id": "0123456789abcdef0123456789abcdef", "customData": '{"auth_token": "x"}'})
@example(data={"session_id": "0123456789ABCDEF0123456789ABCDEF"})
@example(data={"session_id": "0123456789abcdef0123456789abcdef\n"})
def test_any_session_request_is_confirmed_with_a_well_formed_id_or_politely_refused(widget, handler_errors, data):
    handler_errors.clear()
    widget.sio.emit("session_request", data)
    name, answer = widget.next_event()
    if name == "bot_uttered":  # refused customData: no session opened
        assert isinstance(answer["text"], str) and answer["text"]
    else:
        assert name == "session_confirm" and isinstance(answer, str)
        assert kept_or_new(data.get("session_id") if isinstance(data, dict) else None, answer), answer
        name, history = widget.next_event()
        assert name == "history" and isinstance(history, list)
    assert handler_errors == []


# `$` would match before a trailing new line: the id asked for must be replaced, not kept.
@settings(max_examples=10, deadline=15_000)
@given(session_id=st.from_regex(SESSION_ID, fullmatch=True))
@example(session_id="0123456789abcdef0123456789abcdef")
def test_a_session_id_followed_by_a_new_line_is_replaced(widget, session_id):
    widget.sio.emit("session_request", {"session_id": session_id + "\n"})
    name, confirmed = widget.next_event()
    assert name == "session_confirm" and widget.next_event()[0] == "history"
    assert SESSION_ID.fullmatch(confirmed), confirmed


@settings(max_examples=40, deadline=15_000)
@given(data=user_uttered)
@example(data={"message": "bonjour", "customData": {"attachments": [{"upload_id": "0" * 32}],
                                                    "channel_phone": "+33612345678"}})
@example(data={"message": "bonjour", "customData": '{"auth_token": "' + "x" * 5000 + '"}'})
@example(data={"message": "bonjour", "customData": {"client_source": "ip:203.0.113.7"}})
def test_any_message_is_answered_and_only_screened_text_reaches_the_assistant(server, widget, handler_errors, data):
    widget.open()
    handler_errors.clear()
    received_before = len(server.agent.received)
    widget.sio.emit("user_uttered", data)
    name, answer = widget.next_event()
    if name == "bot_uttered":  # refused politely: nothing reached the assistant
        assert isinstance(answer["text"], str) and answer["text"]
        assert server.agent.received[received_before:] == []
    else:
        assert (name, answer) == ("bot_typing", True)
        while (name, answer) != ("bot_typing", False):
            name, answer = widget.next_event()
        (message,) = server.agent.received[received_before:]
        assert 0 < len(message.text) <= MAX_MESSAGE_LENGTH and screen_text(message.text).text == message.text
        assert "attachments" not in message.metadata and "channel_phone" not in message.metadata
        # The source is the widget's own reading of the socket's address, never the client's.
        assert message.metadata["client_source"] == "ip:127.0.0.1"
        # A token reaches the assistant only as the channel bounds it.
        token = message.metadata.get("auth_token")
        assert token is None or isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_LENGTH
        # No button was offered in this conversation: no /intent shortcut reaches the assistant.
        assert not message.text.startswith("/") or not message.text.replace("/", "").strip(), message.text
        assert json.loads(json.dumps(message.metadata)) == message.metadata  # plain JSON, storable
    assert handler_errors == []


event_names = st.sampled_from(["user_uttered", "session_request"]) | hostile_text
raw_data = (deep_json() | wide_json() | json_values.map(json.dumps)
            | deep_json().map(lambda nested: f'{{"message": "bonjour", "customData": {nested}}}'))
raw_packets = (st.builds(lambda name, data: f"[{json.dumps(name)}, {data}]", event_names, raw_data)
               | hostile_text.map(lambda text: '["user_uttered", ' + text))  # mostly not JSON


def send_raw(widget: Widget, packet: str) -> None:
    """A socket.io EVENT packet whose JSON is written by hand."""
    widget.sio.eio.send("2" + packet)


@settings(max_examples=25, deadline=15_000)
@given(packet=raw_packets)
@example(packet='["user_uttered", {"message": "bonjour", "customData": ' + '{"a":' * 900 + '1' + '}' * 900 + '}]')
@example(packet="[" * 100_000)
@example(packet='["session_request", {"customData": {"auth_token": "\\ud800"}}]')
def test_after_any_socket_io_event_the_socket_still_works(server, widget, handler_errors, packet):
    widget.open()
    handler_errors.clear()
    received_before = len(server.agent.received)
    send_raw(widget, packet)
    widget.open()
    for message in server.agent.received[received_before:]:
        assert screen_text(message.text).text == message.text
    assert handler_errors == []


@settings(max_examples=10, deadline=15_000)
@given(packet=st.sampled_from(["", "[]", "null", "{}", "1", "true"]) | json_values.filter(
    lambda value: not isinstance(value, (list, str))).map(json.dumps))
@example(packet="[]")
def test_a_packet_that_is_no_event_is_refused_without_a_handler_error(widget, handler_errors, packet):
    widget.open()
    handler_errors.clear()
    send_raw(widget, packet)
    widget.open()
    assert handler_errors == []


# --- the upload route --------------------------------------------------------------------------

form_texts = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xff), max_size=60)


@settings(max_examples=30, deadline=15_000)
@given(use_own_session=st.booleans(), session_id=form_texts, socket_id=form_texts,
       file=st.none() | st.tuples(form_texts, st.binary(max_size=300), form_texts),
       raw=st.none() | st.tuples(st.sampled_from(["multipart/form-data; boundary=x", "multipart/form-data",
                                                  "application/json", "text/plain"]), st.binary(max_size=300)))
@example(use_own_session=True, session_id="", socket_id="", file=("photo.jpg", b"\xff\xd8\xff\x00", "image/jpeg"),
         raw=None)
@example(use_own_session=False, session_id="", socket_id="",
         file=None, raw=("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\"file\""))
def test_any_upload_to_the_widget_gets_a_json_answer_and_reaches_the_assistant_only_when_taken(
        server, widget, handler_errors, use_own_session, session_id, socket_id, file, raw):
    if use_own_session:
        session_id, socket_id = widget.open(), widget.sio.get_sid()
    handler_errors.clear()
    received_before = len(server.agent.received)
    url = f"http://127.0.0.1:{server.port}/webhooks/widget/upload"
    if raw is not None:
        answer = requests.post(url, data=raw[1], headers={"Content-Type": raw[0]}, timeout=30)
    else:
        answer = requests.post(url, data={"session_id": session_id, "socket_id": socket_id},
                               files={"file": file} if file else None, timeout=30)
    assert answer.status_code < 500, answer.text
    if answer.status_code != 201:
        assert answer.json()["error"]["code"] and answer.json()["error"]["message"]
        assert server.agent.received[received_before:] == []
    assert handler_errors == []
