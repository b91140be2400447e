"""The phone line's input: the gateway's events (connectors.ivr_events: authentication and
parsing), the telephone channel served for real on any body and any event of a started call,
and what is spoken back (connectors.speech) on any text."""
import json
import re
import time
import uuid
import xml.etree.ElementTree as ElementTree

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rasa.shared.core.domain import Domain

from connectors.guard import MAX_MESSAGE_LENGTH, screen_text
from connectors.ivr import CALL_STARTED, WANTS_ADVISER
from connectors.ivr_events import (
    EVENT_TYPES,
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_SECONDS,
    TRANSFER_OUTCOMES,
    CallEvent,
    InvalidEvent,
    Refused,
    authenticate,
    parse_event,
    sign,
)
from connectors.speech import to_speech
from tests.connectors.test_ivr import GREETING, TOKEN, Line
from tests.fuzz.conftest import REPO_ROOT
from tests.fuzz.strategies import deep_json, hostile_text, json_bytes, json_values, shortcut_text, wide_json

SIGNING_SECRET = "test-ivr-signing-secret-0123456789"
IDENTIFIER = r"[A-Za-z0-9._:-]{1,100}"
ACTION_TYPES = {"say", "listen", "hangup", "transfer"}
GREETING_PAYLOADS = {button["payload"] for button in GREETING["buttons"]}

ids = st.uuids().map(str) | st.from_regex(IDENTIFIER, fullmatch=True) | hostile_text
alternatives = st.lists(
    st.fixed_dictionaries({"transcript": hostile_text | shortcut_text | json_values,
                           "confidence": st.floats(0, 1) | st.floats() | st.integers() | json_values}),
    max_size=12,
) | json_values


def events(event_ids=ids, call_ids=ids):
    """Events shaped like the gateway's (docs/ivr-api.md), any field possibly wrong."""
    return st.fixed_dictionaries(
        {"event_id": event_ids, "call_id": call_ids, "type": st.sampled_from(EVENT_TYPES) | hostile_text},
        optional={
            "caller": st.sampled_from(["06 12 34 56 78", "+33612345678", "0825071122", None]) | hostile_text,
            "final": st.booleans() | json_values,
            "alternatives": alternatives,
            "digits": st.text("0123456789*#", max_size=40) | hostile_text,
            "status": st.sampled_from(TRANSFER_OUTCOMES) | hostile_text,
        },
    )


# --- parsing and authentication -------------------------------------------------------------


@settings(max_examples=100, deadline=1000)
@given(body=json_values | events())
@example(body={"event_id": "e1", "call_id": "c1", "type": "utterance", "final": True,
               "alternatives": [{"transcript": "oui", "confidence": 10 ** 400}]})
@example(body={"event_id": "e1\n", "call_id": "c1", "type": "dtmf", "digits": "12\n"})
def test_any_body_is_an_event_in_its_documented_form_or_a_4xx(body):
    try:
        event = parse_event(body)
    except InvalidEvent as invalid:
        assert invalid.status in (400, 422) and invalid.code and invalid.message
        return
    assert isinstance(event, CallEvent)
    assert event.type in EVENT_TYPES
    for identifier in (event.event_id, event.call_id):
        assert isinstance(identifier, str) and re.fullmatch(IDENTIFIER, identifier)
    if event.type == "utterance":
        assert isinstance(event.final, bool) and 1 <= len(event.alternatives) <= 10
        for alternative in event.alternatives:
            assert isinstance(alternative.transcript, str) and len(alternative.transcript) <= MAX_MESSAGE_LENGTH
            assert type(alternative.confidence) is float and 0 <= alternative.confidence <= 1
    if event.type == "dtmf":
        assert set(event.digits) <= set("0123456789*#") and 1 <= len(event.digits) <= 32
    if event.type == "transfer_status":
        assert event.transfer_status in TRANSFER_OUTCOMES
    if event.type == "start":
        assert event.caller is None or (isinstance(event.caller, str) and len(event.caller) <= 40)


header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=120)


@settings(max_examples=100, deadline=1000)
@given(authorization=st.none() | header_text | header_text.map(lambda text: "Bearer " + text),
       signature=st.none() | header_text | st.builds(lambda t, digest: f"t={t},v1={digest}",
                                                     st.integers(0, 10 ** 13), st.text("0123456789abcdef", max_size=70)),
       body=st.binary(max_size=200))
@example(authorization=f"Bearer {TOKEN}", signature=None, body=b"{}")
@example(authorization=None, signature=sign(b"{}", SIGNING_SECRET, int(time.time())), body=b"{}")
@example(authorization="Bearer ", signature=sign(b"{}", SIGNING_SECRET, int(time.time())), body=b"{}")
def test_any_credentials_are_accepted_only_when_they_are_the_gateways(authorization, signature, body):
    headers = {name: value for name, value in (("Authorization", authorization), (SIGNATURE_HEADER, signature))
               if value is not None}
    try:
        authenticate(headers, body, TOKEN, SIGNING_SECRET, now=int(time.time()))
    except Refused as refused:
        assert refused.status in (401, 403) and refused.code and refused.message
        return
    bearer = authorization is not None and authorization.startswith("Bearer ")
    if bearer:
        assert authorization[len("Bearer "):].strip() == TOKEN
    else:
        timestamp = int(re.fullmatch(r"t=([0-9]+),.*", signature.strip(), re.DOTALL)[1])
        assert signature.strip() == sign(body, SIGNING_SECRET, timestamp)


@settings(max_examples=100, deadline=1000)
@given(body=st.binary(max_size=300), other=st.binary(max_size=300),
       age=st.integers(-SIGNATURE_TOLERANCE_SECONDS, SIGNATURE_TOLERANCE_SECONDS))
def test_a_signed_body_is_accepted_and_any_other_body_refused_with_its_signature(body, other, age):
    now = int(time.time())
    signature = {SIGNATURE_HEADER: sign(body, SIGNING_SECRET, now - age)}
    authenticate(signature, body, "", SIGNING_SECRET, now)
    if other != body:
        with pytest.raises(Refused):
            authenticate(signature, other, "", SIGNING_SECRET, now)


# --- what is spoken back ---------------------------------------------------------------------


@settings(max_examples=100, deadline=1000)
@given(written=hostile_text)
@example(written="Votre dossier SIN-2026-000731 : [le suivi](https://oyat.fr/s) **412,00 €** le 03/12/2026 à 9h30")
@example(written="<break time='9s'/> & </speak>")
def test_any_answer_is_spoken_as_plain_text_and_well_formed_ssml(written):
    spoken = to_speech(screen_text(written).text or "")
    assert isinstance(spoken.text, str)
    assert ElementTree.fromstring(spoken.ssml).tag == "speak"  # what the gateway parses


@settings(max_examples=10, deadline=2000)
@given(piece=st.sampled_from(["[a](", "**a", "a – ", "1 000 ", "a.b@", ": ", "12 h", "0 ", "1/1/", "AB-1", "`",
                              "__a", "www.", "a.fr.", "06 12 "]),
       length=st.integers(10_000, 40_000))
def test_long_answers_are_spoken_in_bounded_time(piece, length):
    assert to_speech((piece * (length // len(piece) + 1))[:length]).ssml


# --- the channel, served ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def line(tmp_path_factory, generous_rate_limits):
    running = Line(Domain.load(str(REPO_ROOT / "domain")), tmp_path_factory.mktemp("ivr-fuzz") / "ivr.db").start()
    yield running
    running.stop()


def assert_refused_cleanly(answer, received_before, line):
    assert 400 <= answer.status_code < 500, answer.text
    error = answer.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert len(line.assistant.received) == received_before


@settings(max_examples=40, deadline=5000)
@given(raw=st.binary(max_size=300) | json_values.map(json_bytes) | events().map(json_bytes)
       | deep_json().map(str.encode) | wide_json().map(str.encode))
@example(raw=b"[" * 100_000)
@example(raw=b'{"event_id": "e", "call_id": "c", "type": "start", "caller": "\\ud800"}')
def test_any_body_from_the_gateway_gets_a_json_answer_never_a_server_error(line, raw):
    before = len(line.assistant.received)
    answer = line.post_raw(raw, {"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code < 500, answer.text
    if answer.status_code != 200:
        assert_refused_cleanly(answer, before, line)


@settings(max_examples=30, deadline=5000)
@given(event=events(event_ids=st.just("set below"), call_ids=st.just("set below")))
@example(event={"event_id": "", "call_id": "", "type": "utterance", "final": True,
                "alternatives": [{"transcript": "/request_human", "confidence": 0.9}]})
@example(event={"event_id": "", "call_id": "", "type": "dtmf", "digits": "#*#"})
def test_any_event_of_a_started_call_is_answered_with_voice_actions_or_a_4xx(line, event):
    call_id = f"call-{uuid.uuid4().hex}"
    assert line.post({"event_id": uuid.uuid4().hex, "call_id": call_id, "type": "start"}).status_code == 200
    before = len(line.assistant.received)
    answer = line.post({**event, "event_id": uuid.uuid4().hex, "call_id": call_id})
    assert answer.status_code < 500, answer.text
    if answer.status_code != 200:
        assert_refused_cleanly(answer, before, line)
        return
    reply = answer.json()
    assert reply["call_id"] == call_id and {action["type"] for action in reply["actions"]} <= ACTION_TYPES
    for message in line.assistant.received[before:]:
        text = message.text
        assert isinstance(text, str) and 0 < len(text) <= MAX_MESSAGE_LENGTH and screen_text(text).text == text
        # Speech never opens the /intent shortcut: only the channel's own messages and the
        # payloads of the buttons the caller chose on the keypad start with "/".
        assert not text.startswith("/") or text in {CALL_STARTED, WANTS_ADVISER, *GREETING_PAYLOADS}, text
    json.dumps(reply)
