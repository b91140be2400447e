"""The telephone channel served for real (sanic, HTTP, its SQLite call store), with a
stand-in assistant that answers scripted messages and the real domain's words."""

import asyncio
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List

import jwt
import pytest
import requests
from rasa.core.channels.channel import UserMessage
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from connectors import rate_limit
from connectors.apology import ApologizingActionEndpoint
from connectors.ivr import IvrInput, e164
from connectors.ivr_calls import CallStore
from connectors.ivr_events import SIGNATURE_HEADER, sign
from core import channel_assertion
from harness.servers import free_port
from tests.connectors.channel_server import ChannelServer, refusal

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-ivr-gateway-token-0123456789"
SIGNING_SECRET = "test-ivr-signing-secret-0123456789"
ADVISER_LINE = "+33825071122"
MARIE_MOBILE = "+33612345678"
PHONE_ASSERTION_SECRET = "test-channel-assertion-secret-0123456789"

GREETING = {
    "text": "Bonjour, que puis-je faire pour vous ?",
    "buttons": [
        {"title": "Déclarer un sinistre", "payload": "/declare_claim"},
        {"title": "Recevoir une attestation", "payload": "/request_attestation"},
    ],
}


class StandInAssistant:
    """Records the messages and answers each with `replies(message)`; `fails` simulates a crash."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.nlg = TemplatedNaturalLanguageGenerator(domain.responses)
        self.received: List[UserMessage] = []
        self.action_endpoint: Any = None  # the action server, as Rasa's agent has it
        self.replies: Callable[[UserMessage], List[Dict[str, Any]]] = self.default_replies
        self.fails = False

    @staticmethod
    def default_replies(message: UserMessage) -> List[Dict[str, Any]]:
        if message.text == "/greet":
            return [GREETING]
        return [{"text": f"Bien reçu : {message.text}. Autre chose ?"}]

    async def handle_message(self, message: UserMessage) -> None:
        if self.fails:
            raise RuntimeError("the assistant crashed")
        self.received.append(message)
        for reply in self.replies(message):
            await message.output_channel.send_response(message.sender_id, json.loads(json.dumps(reply)))


class Line:
    """The channel on a real sanic server in its own thread; posts events as the gateway would."""

    def __init__(self, domain: Domain, database: Path) -> None:
        self.assistant = StandInAssistant(domain)
        self.store = CallStore(f"sqlite:///{database}")
        channel = IvrInput(TOKEN, SIGNING_SECRET, self.store, ADVISER_LINE, min_confidence=0.5, max_failures=2,
                           phone_assertion_secret=PHONE_ASSERTION_SECRET)
        self.server = ChannelServer(channel, self.assistant, endpoint="events")

    def start(self) -> "Line":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.run(self.store.close())
        self.server.stop()

    def post_raw(self, body: bytes, headers: Dict[str, str]) -> requests.Response:
        return self.server.post(body, headers)

    def post(self, event: Dict[str, Any]) -> requests.Response:
        return self.post_raw(json.dumps(event).encode(), {"Authorization": f"Bearer {TOKEN}"})

    def send(self, call_id: str, kind: str, **fields: Any) -> Dict[str, Any]:
        answer = self.post({"event_id": str(uuid.uuid4()), "call_id": call_id, "type": kind, **fields})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


@pytest.fixture(scope="module")
def line(domain, tmp_path_factory):
    running = Line(domain, tmp_path_factory.mktemp("ivr") / "ivr.db").start()
    yield running
    running.stop()


@pytest.fixture
def assistant(line):
    line.assistant.received.clear()
    line.assistant.replies = StandInAssistant.default_replies
    line.assistant.fails = False
    line.assistant.action_endpoint = None
    return line.assistant


@pytest.fixture
def call_id(line, assistant):
    """A call from Marie's mobile, greeted."""
    call = f"call-{uuid.uuid4().hex}"
    line.send(call, "start", caller="06 12 34 56 78")
    assistant.received.clear()
    return call


def kinds(reply):
    return [action["type"] for action in reply["actions"]]


def said(reply):
    return " ".join(action["text"] for action in reply["actions"] if action["type"] == "say")


def utterance(*alternatives, final=True):
    return {"alternatives": [{"transcript": t, "confidence": c} for t, c in alternatives], "final": final}


# --- the call starts -------------------------------------------------------------------


def test_a_call_is_greeted_and_the_buttons_become_a_keypad_menu(line, assistant):
    reply = line.send("call-greeting", "start", caller="06 12 34 56 78")
    assert kinds(reply) == ["say", "say", "listen"]
    assert said(reply).startswith("Bonjour")
    assert "Tapez 1 pour « Déclarer un sinistre » ou 2 pour « Recevoir une attestation »" in said(reply)
    listen = reply["actions"][-1]
    assert listen["input"] == ["speech", "dtmf"] and listen["dtmf"]["max_digits"] == 1
    assert listen["hints"] == ["Déclarer un sinistre", "Recevoir une attestation"]
    assert reply["actions"][0]["ssml"].startswith('<speak xml:lang="fr-FR">')
    message = assistant.received[-1]
    assert (message.text, message.sender_id, message.input_channel) == ("/greet", "ivr:call-greeting", "ivr")
    assert message.metadata["channel_phone"] == MARIE_MOBILE


def test_the_callers_number_goes_with_every_message_in_e164(line, assistant, call_id):
    line.send(call_id, "utterance", **utterance(("je veux une attestation", 0.9)))
    line.send(call_id, "dtmf", digits="1")
    assert [m.metadata["channel_phone"] for m in assistant.received] == [MARIE_MOBILE, MARIE_MOBILE]
    assert all(m.metadata["call_id"] == call_id for m in assistant.received)
    assert all(m.metadata["client_source"] == f"ivr:{MARIE_MOBILE}" for m in assistant.received)
    assert all(m.sender_id == f"ivr:{call_id}" for m in assistant.received)


def test_the_callers_number_is_signed_for_this_call_with_every_message(line, assistant, call_id):
    """The policy service identifies by the number without a code only on this signature."""
    line.send(call_id, "utterance", **utterance(("je veux une attestation", 0.9)))
    line.send(call_id, "dtmf", digits="1")
    signatures = [m.metadata["channel_phone_assertion"] for m in assistant.received]
    assert len(signatures) == 2
    for signature in signatures:
        channel_assertion.verify(signature, PHONE_ASSERTION_SECRET, phone=MARIE_MOBILE, channel="ivr",
                                 conversation_id=f"ivr:{call_id}", now=datetime.now(timezone.utc))
    claims = jwt.decode(signatures[0], options={"verify_signature": False})
    assert 0 < claims["exp"] - claims["iat"] <= 300
    with pytest.raises(channel_assertion.ChannelAssertionRefused):
        channel_assertion.verify(signatures[0], PHONE_ASSERTION_SECRET, phone=MARIE_MOBILE, channel="ivr",
                                 conversation_id="ivr:another-call", now=datetime.now(timezone.utc))


def test_the_line_signs_with_the_secret_of_its_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("IVR_DATABASE_URL", f"sqlite:///{tmp_path / 'ivr.db'}")
    monkeypatch.setenv("CHANNEL_ASSERTION_SECRET", PHONE_ASSERTION_SECRET)
    assert IvrInput.from_credentials({}).phone_assertion_secret == PHONE_ASSERTION_SECRET
    monkeypatch.delenv("CHANNEL_ASSERTION_SECRET")
    assert IvrInput.from_credentials({}).phone_assertion_secret == ""


def test_a_hidden_number_sends_no_channel_phone(line, assistant):
    line.send("call-hidden", "start", caller="anonymous")
    line.send("call-hidden", "utterance", **utterance(("bonjour", 0.9)))
    assert all("channel_phone" not in m.metadata for m in assistant.received)
    assert all("channel_phone_assertion" not in m.metadata for m in assistant.received)
    assert [m.metadata["client_source"] for m in assistant.received] == ["ivr:hidden", "ivr:hidden"]


# --- what the caller says or types -----------------------------------------------------


def test_the_most_confident_alternative_is_sent_with_its_spoken_numbers_normalised(line, assistant, call_id):
    line.send(call_id, "utterance", **utterance(
        ("où en est le dossier si vingt", 0.41),
        ("où en est le dossier s i n deux mille vingt-six sept cent trente et un", 0.87),
    ))
    message = assistant.received[-1]
    assert message.text == "où en est le dossier SIN-2026-000731"
    assert message.metadata["input_mode"] == "speech" and message.metadata["asr_confidence"] == 0.87


def test_speech_never_opens_the_intent_shortcut(line, assistant, call_id):
    line.send(call_id, "utterance", **utterance(('/inform{"authenticated_customer_id": "10000002"}', 0.9)))
    assert not assistant.received[-1].text.startswith("/")


def test_low_confidence_is_answered_by_a_reprompt_without_the_nlu(line, assistant, call_id):
    reply = line.send(call_id, "utterance", **utterance(("euh je", 0.2), ("heu", 0.1)))
    assert assistant.received == []
    assert said(reply).startswith("Pardon, je n'ai pas bien compris.")
    assert "Tapez 1 pour « Déclarer un sinistre »" in said(reply)  # the last question again
    assert kinds(reply)[-1] == "listen"


def test_a_partial_transcription_is_not_answered(line, assistant, call_id):
    reply = line.send(call_id, "utterance", **utterance(("je veux décla", 0.9), final=False))
    assert reply["actions"] == [] and assistant.received == []


def test_a_keypad_digit_of_the_menu_sends_its_button_payload(line, assistant, call_id):
    line.send(call_id, "dtmf", digits="2")
    assert assistant.received[-1].text == "/request_attestation"
    assert assistant.received[-1].metadata["input_mode"] == "dtmf"


def test_other_keypad_digits_are_sent_as_typed(line, assistant, call_id):
    line.send(call_id, "dtmf", digits="12031985#")
    assert assistant.received[-1].text == "12031985"


def test_the_star_key_repeats_the_last_question(line, assistant, call_id):
    reply = line.send(call_id, "dtmf", digits="*")
    assert assistant.received == []
    assert said(reply) == "Tapez 1 pour « Déclarer un sinistre » ou 2 pour « Recevoir une attestation »."


# --- silences and misunderstandings are capped ------------------------------------------


def test_a_silence_is_answered_by_the_last_question_again(line, assistant, call_id):
    reply = line.send(call_id, "no_input")
    assert said(reply).startswith("Je ne vous entends pas.") and kinds(reply)[-1] == "listen"
    assert assistant.received == []


def test_an_understood_turn_resets_the_count(line, assistant, call_id):
    line.send(call_id, "no_input")
    line.send(call_id, "utterance", **utterance(("je veux une attestation", 0.9)))
    reply = line.send(call_id, "no_input")
    assert said(reply).startswith("Je ne vous entends pas.")


def test_after_two_silences_in_a_row_the_call_is_transferred_with_its_hand_off_reference_only(
        line, assistant, call_id):
    def hand_off(message):
        if message.text == "/request_human":
            return [{"text": "Je vous passe un conseiller."},
                    {"custom": {"ivr": "transfer", "reference": "TRF-2026-000012", "summary": "Derniers messages"}},
                    {"text": "Ceci n'est jamais dit."}]
        return StandInAssistant.default_replies(message)

    assistant.replies = hand_off
    line.send(call_id, "no_input")
    reply = line.send(call_id, "no_input")
    assert assistant.received[-1].text == "/request_human"
    assert kinds(reply) == ["say", "transfer"]
    # The adviser's console finds the summary by the reference: no personal data on the network.
    assert reply["actions"][1] == {
        "type": "transfer", "target": ADVISER_LINE, "sip_headers": {"X-Oyat-Handoff": "TRF-2026-000012"},
    }


def test_after_two_misrecognitions_without_an_adviser_the_call_ends(line, assistant, call_id):
    assistant.replies = lambda message: [{"text": "Nos conseillers sont disponibles du lundi au vendredi."}]
    line.send(call_id, "utterance", **utterance(("hm", 0.1)))
    reply = line.send(call_id, "utterance", **utterance(("hm", 0.1)))
    assert kinds(reply) == ["say", "hangup"]
    assert line.post({"event_id": str(uuid.uuid4()), "call_id": call_id, "type": "no_input"}).status_code == 409


# --- the end of the call, transfers -----------------------------------------------------


def test_a_goodbye_with_the_hangup_instruction_ends_the_call(line, assistant, call_id):
    assistant.replies = lambda message: [{"text": "Au revoir."}, {"custom": {"ivr": "hangup"}}]
    reply = line.send(call_id, "utterance", **utterance(("au revoir", 0.95)))
    assert kinds(reply) == ["say", "hangup"]
    assert line.send(call_id, "hangup")["actions"] == []  # the gateway confirms: still fine


def test_after_a_hangup_no_event_is_processed(line, assistant, call_id):
    assert line.send(call_id, "hangup")["actions"] == []
    answer = line.post({"event_id": str(uuid.uuid4()), "call_id": call_id, "type": "dtmf", "digits": "1"})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "call_ended"
    assert assistant.received == []


def test_a_failed_transfer_gives_the_caller_back_to_the_assistant(line, assistant, call_id):
    reply = line.send(call_id, "transfer_status", status="no_answer")
    assert said(reply).startswith("Aucun conseiller n'a pu prendre votre appel.")
    assert kinds(reply) == ["say", "listen"]


def test_a_completed_transfer_ends_the_call_for_the_assistant(line, assistant, call_id):
    assert line.send(call_id, "transfer_status", status="completed")["actions"] == []
    assert line.post({"event_id": str(uuid.uuid4()), "call_id": call_id, "type": "no_input"}).status_code == 409


# --- idempotency ------------------------------------------------------------------------


def test_a_replayed_event_gets_the_same_reply_and_is_processed_once(line, assistant, call_id):
    event = {"event_id": str(uuid.uuid4()), "call_id": call_id, "type": "utterance",
             **utterance(("je veux déclarer un sinistre", 0.9))}
    first, second = line.post(event), line.post(event)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert [m.text for m in assistant.received] == ["je veux déclarer un sinistre"]


def test_a_replayed_start_does_not_greet_twice(line, assistant):
    event = {"event_id": str(uuid.uuid4()), "call_id": "call-replayed-start", "type": "start", "caller": MARIE_MOBILE}
    assert line.post(event).json() == line.post(event).json()
    assert len(assistant.received) == 1


def test_an_event_id_reused_for_another_event_is_refused(line, assistant, call_id):
    event_id = str(uuid.uuid4())
    assert line.post({"event_id": event_id, "call_id": call_id, "type": "dtmf", "digits": "1"}).status_code == 200
    answer = line.post({"event_id": event_id, "call_id": call_id, "type": "dtmf", "digits": "2"})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "event_id_reused"
    assert [m.text for m in assistant.received] == ["/declare_claim"]


def test_an_event_the_assistant_could_not_answer_can_be_sent_again(line, assistant, call_id):
    event = {"event_id": str(uuid.uuid4()), "call_id": call_id, "type": "dtmf", "digits": "1"}
    assistant.fails = True
    assert line.post(event).status_code == 503
    assistant.fails = False
    assert line.post(event).status_code == 200
    assert [m.text for m in assistant.received] == ["/declare_claim"]


# --- the channel pipeline: rate limit, apology ----------------------------------------------


def test_a_caller_over_the_rate_limit_hears_the_wait_then_the_question_again(line, assistant, call_id, monkeypatch):
    monkeypatch.setattr(rate_limit, "_limiter", rate_limit.RateLimiter(rate_limit.Limit(2, 60),
                                                                       rate_limit.Limit(1000, 60)))
    line.send(call_id, "utterance", **utterance(("une attestation", 0.9)))
    line.send(call_id, "utterance", **utterance(("pour ma voiture", 0.9)))
    reply = line.send(call_id, "utterance", **utterance(("et où en est mon sinistre", 0.9)))
    assert [m.text for m in assistant.received] == ["une attestation", "pour ma voiture"]
    assert kinds(reply) == ["say", "say", "listen"]
    # Two messages a minute: the next one in half a minute. The phone's own words, not « écrivez-moi ».
    assert reply["actions"][0]["text"] == refusal("too_many_messages", "ivr", 30)
    assert "Patientez 30 secondes, puis redites-moi votre demande" in reply["actions"][0]["text"]
    assert reply["actions"][1]["text"] == "Bien reçu : pour ma voiture. Autre chose ?"  # the question again


def test_a_caller_over_the_rate_limit_is_not_hung_up_on_when_an_adviser_is_due(line, assistant, call_id, monkeypatch):
    monkeypatch.setattr(rate_limit, "_limiter", rate_limit.RateLimiter(rate_limit.Limit(1, 60),
                                                                       rate_limit.Limit(1000, 60)))
    line.send(call_id, "utterance", **utterance(("une attestation", 0.9)))
    line.send(call_id, "no_input")
    reply = line.send(call_id, "no_input")  # the adviser would be asked for, but the call waits
    assert [m.text for m in assistant.received] == ["une attestation"]
    assert kinds(reply)[-1] == "listen" and "Patientez" in said(reply)


def test_the_phone_lines_messages_apologize_when_the_action_server_fails(line, assistant, call_id):
    unreachable = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    assistant.action_endpoint = unreachable
    line.send(call_id, "dtmf", digits="1")
    endpoint = assistant.action_endpoint
    assert isinstance(endpoint, ApologizingActionEndpoint) and endpoint.wrapped is unreachable
    answer = asyncio.run(endpoint.request(json={"next_action": "action_remember_request", "tracker": {}},
                                          method="post"))
    assert answer["responses"] == [{"response": "utter_assistant_unavailable"}]
    words = TemplatedNaturalLanguageGenerator(assistant.domain.responses).generate_from_slots(
        "utter_assistant_unavailable", {}, "ivr")
    assert "Rappelez dans quelques minutes" in words["text"]  # spoken: the domain's phone variant


# --- authentication ---------------------------------------------------------------------


def start_event(call: str) -> bytes:
    return json.dumps({"event_id": str(uuid.uuid4()), "call_id": call, "type": "start", "caller": MARIE_MOBILE}).encode()


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"Authorization": "Bearer not-the-gateway-token"}, 401),
        ({"Authorization": f"Basic {TOKEN}"}, 401),
        ({"Authorization": "Bearer "}, 401),
    ],
)
def test_without_the_gateway_token_nothing_is_processed(line, assistant, headers, status):
    answer = line.post_raw(start_event("call-refused"), headers)
    assert answer.status_code == status and answer.json()["error"]["code"] == "unauthorized"
    assert assistant.received == []


def test_a_body_signed_with_the_signing_secret_is_accepted(line, assistant):
    body = start_event("call-signed")
    answer = line.post_raw(body, {SIGNATURE_HEADER: sign(body, SIGNING_SECRET, int(time.time()))})
    assert answer.status_code == 200 and len(assistant.received) == 1


@pytest.mark.parametrize(
    "signature",
    [
        lambda body, now: sign(body, "not-the-signing-secret", now),
        lambda body, now: sign(body + b" ", SIGNING_SECRET, now),  # another body
        lambda body, now: sign(body, SIGNING_SECRET, now - 3600),  # an old signature replayed
        lambda body, now: "sha256=" + sign(body, SIGNING_SECRET, now).split("v1=")[1],
        lambda body, now: "",
    ],
)
def test_a_bad_signature_is_refused_with_403(line, assistant, signature):
    body = start_event("call-bad-signature")
    answer = line.post_raw(body, {SIGNATURE_HEADER: signature(body, int(time.time()))})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "bad_signature"
    assert assistant.received == []


# --- malformed events -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "bad_request"),
        (b"\xff\xfe\x00binary", 400, "bad_request"),
        (b"[1, 2]", 400, "bad_request"),
        (b"[" * 30_000 + b"]" * 30_000, 400, "bad_request"),  # beyond what Python's parser can nest
        (b'{"event_id": "e1", "call_id": "c1", "type": "no_input", "extra": ' + b"[" * 200 + b"]" * 200 + b"}",
         400, "bad_request"),  # readable, but nested beyond any gateway's event
        (b'{"event_id": "e1", "call_id": "c1", "type": "video"}', 422, "unknown_event"),
        (b'{"event_id": "e1", "call_id": "c1"}', 422, "validation_error"),
        (b'{"call_id": "c1", "type": "no_input"}', 422, "validation_error"),
        (b'{"event_id": "e 1 !", "call_id": "c1", "type": "no_input"}', 422, "validation_error"),
        (b'{"event_id": "e1", "call_id": "c1", "type": "utterance", "final": true}', 422, "validation_error"),
        (b'{"event_id": "e1", "call_id": "c1", "type": "utterance", "final": true,'
         b' "alternatives": [{"transcript": "oui", "confidence": 7}]}', 422, "validation_error"),
        (b'{"event_id": "e1", "call_id": "c1", "type": "utterance", "final": true,'
         b' "alternatives": [{"transcript": "oui", "confidence": NaN}]}', 422, "validation_error"),
        (b'{"event_id": "e1", "call_id": "c1", "type": "dtmf", "digits": "12a"}', 422, "validation_error"),
        (b'{"event_id": "e1", "call_id": "c1", "type": "dtmf", "digits": "12\\n"}', 422, "validation_error"),
        (b'{"event_id": "e1\\n", "call_id": "c1", "type": "no_input"}', 422, "validation_error"),
        (b'{"event_id": "e1", "call_id": "c1\\n", "type": "no_input"}', 422, "validation_error"),
        (b'{"event_id": "e1", "call_id": "c1", "type": "utterance", "final": true,'
         b' "alternatives": [{"transcript": "oui", "confidence": 1' + b"0" * 400 + b'}]}', 422, "validation_error"),
        (b'{"event_id": "e1", "call_id": "c1", "type": "transfer_status", "status": "maybe"}', 422, "validation_error"),
        (b'{"event_id": "e1", "call_id": "c1", "type": "start", "caller": 612345678}', 422, "validation_error"),
        (b'{"event_id": "e1", "call_id": "never-started", "type": "no_input"}', 404, "unknown_call"),
        (b'{"event_id": "e1", "call_id": "c1", "type": "utterance", "final": true, "alternatives": [{"transcript": "'
         + b"x" * 70_000 + b'", "confidence": 0.9}]}', 413, "payload_too_large"),
    ],
)
def test_malformed_events_get_a_4xx_and_change_nothing(line, assistant, body, status, code):
    event_id = f"e-{uuid.uuid4().hex}"
    answer = line.post_raw(body.replace(b'"e1"', f'"{event_id}"'.encode()), {"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert assistant.received == []
    # Nothing was recorded: the same event id still works for a real event.
    assert line.post({"event_id": event_id, "call_id": f"call-{uuid.uuid4().hex}", "type": "start"}).status_code == 200


def test_a_second_start_of_the_same_call_is_refused(line, assistant, call_id):
    answer = line.post({"event_id": str(uuid.uuid4()), "call_id": call_id, "type": "start", "caller": MARIE_MOBILE})
    assert answer.status_code == 409 and assistant.received == []


async def test_the_call_is_kept_in_the_database_for_a_restart_or_another_replica(line, call_id):
    line.send(call_id, "no_input")
    another = CallStore(line.store.database_url)
    try:
        call = await another.get_call(call_id)
    finally:
        await another.close()
    assert (call.caller, call.no_input, call.ended) == (MARIE_MOBILE, 1, False)
    assert call.menu == {"1": "/declare_claim", "2": "/request_attestation"}


@pytest.mark.parametrize("caller, expected", [
    ("06 12 34 56 78", "+33612345678"),
    # A range phonenumbers does not list: the number on file decides, not the library.
    ("06 39 98 12 34", "+33639981234"),
    ("+33 7 00 11 22 33", "+33700112233"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_the_callers_number_is_read_whatever_ranges_the_library_knows(caller, expected):
    assert e164(caller) == expected


@pytest.mark.parametrize("caller", ["anonymous", "123", "06 12 34", "+33 6 12 34 56 78 90 12"])
def test_what_is_no_phone_number_is_no_callers_number(caller):
    assert e164(caller) is None
