"""The jambonz line served for real (sanic, HTTP, its SQLite call store), posted to as
jambonz posts (payloads of docs.jambonz.org, signed as jambonz signs), with a stand-in
assistant; every verb array answered is validated by @jambonz/verb-specifications."""

import asyncio
import json
import time
import uuid
from pathlib import Path

import pytest
import requests
from rasa.shared.core.domain import Domain

from connectors.ivr_calls import CallStore
from connectors.jambonz import JambonzInput, Refused, caller_number, sign, verify
from tests.connectors.channel_server import ChannelServer
from tests.connectors.jambonz_gateway import (
    Call,
    Jambonz,
    VerbValidator,
    call_payload,
    digits,
    kinds,
    speech,
    spoken,
)
from tests.connectors.test_ivr import GREETING, PHONE_ASSERTION_SECRET, StandInAssistant

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-jambonz-webhook-secret-0123456789"
ADVISER_LINE = "+33825071122"


class PatientAssistant(StandInAssistant):
    """The stand-in assistant, which may take `delay` seconds to answer (a slow action server)."""

    delay = 0.0

    async def handle_message(self, message) -> None:
        await asyncio.sleep(self.delay)
        await super().handle_message(message)


@pytest.fixture(scope="module")
def validator():
    running = VerbValidator()
    yield running
    running.close()


# The filler's wait in the tests that do not test it: long enough for a loaded machine's
# first call never to get a filler (the filler's tests set their own short wait).
SLOW_MACHINE_SECONDS = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = CallStore(f"sqlite:///{tmp_path_factory.mktemp('jambonz') / 'ivr.db'}")
    channel = JambonzInput(SECRET, store, ADVISER_LINE, min_confidence=0.5, max_failures=2,
                           phone_assertion_secret=PHONE_ASSERTION_SECRET, answer_within_seconds=SLOW_MACHINE_SECONDS)
    running = ChannelServer(channel, PatientAssistant(Domain.load(str(ROOT / "domain"))), endpoint="call").start()
    yield running
    running.run(store.close())
    running.stop()


@pytest.fixture
def assistant(server):
    server.agent.received.clear()
    server.agent.replies = StandInAssistant.default_replies
    server.agent.fails = False
    server.agent.delay = 0.0
    server.channel.answer_within_seconds = SLOW_MACHINE_SECONDS
    return server.agent


@pytest.fixture
def jambonz(server, validator):
    return Jambonz(f"http://127.0.0.1:{server.port}", SECRET, validator)


@pytest.fixture
def call(jambonz, assistant):
    """A call from Marie's mobile, greeted."""
    running = Call(jambonz, str(uuid.uuid4()), "+33612345678")
    running.start()
    assistant.received.clear()
    return running


# --- the call starts -------------------------------------------------------------------


def test_a_call_is_greeted_with_a_french_gather_on_speech_and_keypad(jambonz, assistant):
    call_sid = str(uuid.uuid4())
    verbs = Call(jambonz, call_sid, "+33612345678").start()
    assert assistant.received[0].text == "/greet"
    assert assistant.received[0].input_channel == "ivr"  # the telephone line, whatever the gateway
    assert assistant.received[0].sender_id == f"ivr:jambonz/{call_sid}"
    assert kinds(verbs) == ["say", "gather"]
    say, gather = verbs
    assert say["text"].startswith("<speak>") and "que puis-je faire pour vous" in say["text"]
    assert say["synthesizer"] == {"vendor": "default", "language": "fr-FR"}
    assert gather["input"] == ["speech", "digits"]
    assert gather["recognizer"]["vendor"] == "default" and gather["recognizer"]["language"] == "fr-FR"
    assert gather["recognizer"]["hints"] == [button["title"] for button in GREETING["buttons"]]
    assert gather["numDigits"] == 1  # a keypad menu of two choices: one key is the choice
    assert "Tapez 1 pour" in gather["say"]["text"]  # the menu is the prompt the caller may cut short
    assert gather["bargein"] and gather["dtmfBargein"]
    assert gather["actionHook"] == f"/webhooks/jambonz/action/{call_sid}?turn=1&on=gather"


@pytest.mark.parametrize("sent", ["+33612345678", "0612345678", "33612345678", "0033612345678"])
def test_the_callers_from_is_normalised_to_e164_whatever_form_the_carrier_uses(jambonz, assistant, sent):
    Call(jambonz, str(uuid.uuid4()), sent).start()
    metadata = assistant.received[0].metadata
    assert metadata["channel_phone"] == "+33612345678"
    assert metadata["client_source"] == "ivr:+33612345678"
    assert metadata["channel_phone_assertion"]  # signed for this call: identification without a code


@pytest.mark.parametrize("sent", ["anonymous", "", "sip:unknown@example.com"])
def test_a_hidden_caller_sends_no_number(jambonz, assistant, sent):
    Call(jambonz, str(uuid.uuid4()), sent).start()
    assert "channel_phone" not in assistant.received[0].metadata
    assert caller_number(sent) is None


# --- what the caller says or presses ---------------------------------------------------


def test_speech_sends_the_most_confident_alternative(call, assistant):
    verbs = call.hook(speech(("mon numéro de sinistre", 0.6), ("mon numéro de sinistre est le 731", 0.91)))
    assert assistant.received[-1].text == "mon numéro de sinistre est le 731"
    assert assistant.received[-1].metadata["asr_confidence"] == 0.91
    assert kinds(verbs) == ["gather"] and "Bien reçu" in spoken(verbs)
    assert verbs[-1]["actionHook"].endswith("turn=2&on=gather")


def test_speech_in_the_newer_transcripts_form_is_read_too(call, assistant):
    call.hook({"reason": "speechDetected", "speech": {"is_final": True, "transcripts": [
        {"is_final": True, "language_code": "fr-FR",
         "alternatives": [{"confidence": 0.88, "transcript": "une attestation"}]}]}})
    assert assistant.received[-1].text == "une attestation"


def test_a_key_of_the_menu_sends_its_buttons_payload(call, assistant):
    call.press("2")
    assert assistant.received[-1].text == "/request_attestation"


def test_a_silence_says_so_then_asks_the_last_question_again(call, assistant):
    verbs = call.silence()
    assert assistant.received == []
    assert "Je ne vous entends pas" in spoken(verbs) and "Tapez 1 pour" in spoken(verbs)
    assert kinds(verbs) == ["say", "gather"]


@pytest.mark.parametrize("result", [
    {"reason": "stt-low-confidence", "speech": {"is_final": True, "alternatives": [
        {"transcript": "résilier mon contrat", "confidence": 0.31}]}},
    speech(("résilier mon contrat", 0.2)),
    {"reason": "error", "details": "STT Vendor google error: quota"},
], ids=["jambonz-low-confidence", "below-our-threshold", "recognizer-error"])
def test_speech_heard_badly_asks_to_repeat_and_nothing_is_acted_on(call, assistant, result):
    verbs = call.hook(result)
    assert assistant.received == []
    assert "Pardon, je n'ai pas bien compris" in spoken(verbs)
    assert verbs[-1]["verb"] == "gather"


# --- transfer, end of the call ----------------------------------------------------------


def hand_off(message):
    if message.text == "/request_human":
        return [{"text": "Je vous passe un conseiller."},
                {"custom": {"ivr": "transfer", "reference": "TRF-2026-000012", "summary": "Derniers messages"}}]
    return StandInAssistant.default_replies(message)


def test_after_two_silences_the_call_is_dialled_to_the_advisers_with_the_reference_only(call, assistant):
    assistant.replies = hand_off
    call.silence()
    verbs = call.silence()
    assert kinds(verbs) == ["say", "dial"]
    dial = verbs[1]
    assert dial["target"] == [{"type": "phone", "number": ADVISER_LINE}]
    assert dial["headers"] == {"X-Oyat-Handoff": "TRF-2026-000012"}  # nothing personal on the network
    assert "Derniers messages" not in str(verbs)
    assert dial["actionHook"] == f"/webhooks/jambonz/action/{call.call_sid}?turn=3&on=dial"
    # The adviser took the call and hung up: the call is over.
    assert call.hook({"dial_call_status": "completed", "dial_sip_status": 200}) == [{"verb": "hangup"}]


def test_a_transfer_nobody_answers_gives_the_caller_back_to_the_assistant(call, assistant):
    assistant.replies = hand_off
    call.silence()
    call.silence()
    verbs = call.hook({"dial_call_status": "no-answer", "dial_sip_status": 487})
    assert "Aucun conseiller n'a pu prendre votre appel" in spoken(verbs)
    assert verbs[-1]["verb"] == "gather"


def test_a_goodbye_hangs_up(call, assistant):
    assistant.replies = lambda message: [{"text": "Au revoir."}, {"custom": {"ivr": "hangup"}}]
    verbs = call.say("au revoir")
    assert kinds(verbs) == ["say", "hangup"]


def test_a_completed_call_status_ends_the_conversation(call, assistant):
    hook = call.next_hook()
    assert call.status("completed").status_code == 204
    call.last = [{"verb": "gather", "actionHook": hook}]
    assert call.say("encore une question") == [{"verb": "hangup"}]
    assert assistant.received == []


def test_other_call_statuses_and_unknown_calls_are_acknowledged(jambonz, call):
    assert call.status("in-progress").status_code == 204
    assert jambonz.post("/webhooks/jambonz/status",
                        call_payload(str(uuid.uuid4()), "+33612345678", call_status="completed")).status_code == 204


# --- replays and deadlines -------------------------------------------------------------


def test_a_replayed_hook_gets_the_same_verbs_and_is_processed_once(call, assistant, jambonz):
    hook = call.next_hook()
    payload = call.payload(**speech(("une attestation", 0.9)))
    first = jambonz.verbs(hook, payload)
    again = jambonz.verbs(hook, payload)  # jambonz retried (#rc=…), signed anew
    assert first == again
    assert [message.text for message in assistant.received] == ["une attestation"]


def test_two_silences_in_a_row_are_two_turns_not_a_replay(call, assistant):
    first = call.silence()
    assert first[-1]["actionHook"].endswith("turn=2&on=gather")  # the next silence is another turn
    second = call.silence()
    assert assistant.received[-1].text == "/request_human"  # counted: an adviser is offered
    assert second[-1] == {"verb": "hangup"}  # none here: the call ends


def test_a_slow_answer_is_bridged_by_a_filler_and_a_redirect_to_the_same_turn(call, assistant, server):
    server.channel.answer_within_seconds = 0.5
    assistant.delay = 1.2
    verbs = call.say("une attestation")
    assert kinds(verbs) == ["say", "redirect"]
    assert "Un instant" in verbs[0]["text"]
    assert verbs[1]["actionHook"] == f"/webhooks/jambonz/action/{call.call_sid}?turn=1&on=wait&wait=1"
    verbs = call.hook({})  # the redirect's request: the call's attributes only
    if kinds(verbs) == ["say", "redirect"]:  # still working: another filler
        verbs = call.hook({})
    assert "Bien reçu : une attestation" in spoken(verbs)
    assert verbs[-1]["actionHook"].endswith("turn=2&on=gather")
    assert [message.text for message in assistant.received] == ["une attestation"]


# --- who may post -----------------------------------------------------------------------


def test_a_request_without_signature_is_refused_with_401(jambonz, assistant):
    answer = jambonz.post("/webhooks/jambonz/call", call_payload(str(uuid.uuid4()), "0612345678"), header="")
    assert answer.status_code == 401
    assert assistant.received == []


@pytest.mark.parametrize("how", ["wrong-secret", "old", "future", "garbage", "no-v1"])
def test_a_bad_signature_is_refused_with_403(jambonz, assistant, how):
    payload = call_payload(str(uuid.uuid4()), "0612345678")
    now = int(time.time())
    if how == "wrong-secret":
        answer = jambonz.post("/webhooks/jambonz/call", payload, secret="not-the-secret")
    elif how == "old":
        answer = jambonz.post("/webhooks/jambonz/call", payload, timestamp=now - 301)
    elif how == "future":
        answer = jambonz.post("/webhooks/jambonz/call", payload, timestamp=now + 301)
    elif how == "garbage":
        answer = jambonz.post("/webhooks/jambonz/call", payload, header="t=abc,v1=xyz")
    else:
        answer = jambonz.post("/webhooks/jambonz/call", payload, header=f"t={now}")
    assert answer.status_code == 403
    assert assistant.received == []


def test_a_signature_of_another_body_is_refused(jambonz, assistant):
    other = json.dumps(call_payload(str(uuid.uuid4()), "0612345678")).encode()
    body = json.dumps(call_payload(str(uuid.uuid4()), "0612345678")).encode()
    answer = requests.post(jambonz.base_url + "/webhooks/jambonz/call", data=body, timeout=10, headers={
        "Content-Type": "application/json", "Jambonz-Signature": sign(other, SECRET, int(time.time()))})
    assert answer.status_code == 403


def test_several_v1_signatures_pass_when_one_matches(jambonz, assistant):
    """As jambonz-node accepts them (a secret being rotated)."""
    payload = call_payload(str(uuid.uuid4()), "0612345678")
    now = int(time.time())
    good = sign(json.dumps(payload).encode(), SECRET, now).split(",")[1]
    answer = jambonz.post("/webhooks/jambonz/call", payload, header=f"t={now},v1={'0' * 64},{good}")
    assert answer.status_code == 200


def test_without_a_secret_configured_everything_is_refused(monkeypatch):
    monkeypatch.delenv("JAMBONZ_WEBHOOK_SECRET", raising=False)
    assert JambonzInput.from_credentials({}).secret == ""
    body = b'{"call_sid": "x"}'
    with pytest.raises(Refused) as refused:
        verify(sign(body, "", int(time.time())), body, "", int(time.time()))
    assert refused.value.status == 403


@pytest.mark.parametrize("path", ["/webhooks/jambonz/call", "/webhooks/jambonz/status",
                                  "/webhooks/jambonz/action/abc?turn=1&on=gather"])
def test_every_webhook_is_signed(jambonz, path):
    assert jambonz.post(path, call_payload("abc", "0612345678"), header="").status_code == 401


def test_a_hook_of_another_call_or_an_unknown_kind_is_refused(call, jambonz):
    payload = call.payload(**digits("1"))
    assert jambonz.post(f"/webhooks/jambonz/action/{uuid.uuid4()}?turn=1&on=gather", payload).status_code == 422
    assert jambonz.post(f"/webhooks/jambonz/action/{call.call_sid}?turn=1&on=exec",
                        payload).status_code == 422
    assert jambonz.post(f"/webhooks/jambonz/action/{call.call_sid}?turn=1&on=gather",
                        call.payload(reason="dtmfDetected", digits="1; DROP")).status_code == 422


def test_an_oversized_body_is_refused(jambonz):
    payload = call_payload(str(uuid.uuid4()), "0612345678", padding="x" * 200_000)
    assert jambonz.post("/webhooks/jambonz/call", payload).status_code == 413


@pytest.mark.parametrize("sent, expected", [
    ("+33612345678", "+33612345678"), ("06 12 34 56 78", "+33612345678"), ("33612345678", "+33612345678"),
    ("447700900123", "+447700900123"), ("anonymous", None), (None, None),
])
def test_carrier_number_forms(sent, expected):
    assert caller_number(sent) == expected


def test_when_the_assistant_fails_the_caller_is_asked_again_and_may_go_on(call, assistant):
    assistant.fails = True
    verbs = call.say("une attestation")
    assert "Pardon, je n'ai pas bien compris" in spoken(verbs) and "Tapez 1 pour" in spoken(verbs)
    assistant.fails = False
    call.say("une attestation")
    assert [message.text for message in assistant.received] == ["une attestation"]


def test_a_slow_greeting_is_bridged_too(jambonz, assistant, server):
    server.channel.answer_within_seconds = 0.5
    assistant.delay = 1.2
    call = Call(jambonz, str(uuid.uuid4()), "+33612345678")
    verbs = call.start()
    assert kinds(verbs) == ["say", "redirect"]
    while kinds(verbs) == ["say", "redirect"]:
        verbs = call.hook({})
    assert "que puis-je faire pour vous" in spoken(verbs) and verbs[-1]["actionHook"].endswith("turn=1&on=gather")


def test_a_replayed_call_webhook_greets_once(jambonz, assistant):
    payload = call_payload(str(uuid.uuid4()), "0612345678")
    first = jambonz.verbs("/webhooks/jambonz/call", payload)
    assert jambonz.verbs("/webhooks/jambonz/call", payload) == first
    assert [message.text for message in assistant.received] == ["/greet"]


def test_a_signed_body_nested_thirty_thousand_levels_deep_gets_a_400(jambonz, assistant):
    body = b'{"call_sid": "c", "from": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    answer = requests.post(jambonz.base_url + "/webhooks/jambonz/call", data=body, timeout=10, headers={
        "Content-Type": "application/json", "Jambonz-Signature": sign(body, SECRET, int(time.time()))})
    assert answer.status_code == 400 and assistant.received == []
