"""The AudioCodes VoiceAI Connect channel (AC Bot API, HTTP mode) served for real (sanic,
HTTP, its SQLite call store), with the stand-in assistant of the telephone line's tests.
Payloads as AudioCodes documents them (techdocs.audiocodes.com, « Bot API »: create,
activities, refresh, disconnect; `start`, `DTMF`, `noUserInput`, `transferStatus` events)."""

import asyncio
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional
from urllib.parse import urljoin

import pytest
import requests
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.domain import Domain

from connectors.audiocodes import AudiocodesInput
from connectors.ivr_calls import CallStore
from core import channel_assertion
from tests.connectors.channel_server import ROOT, ChannelServer
from tests.connectors.test_ivr import StandInAssistant

TOKEN = "test-audiocodes-bot-token-0123456789"
ADVISER_LINE = "+33825071122"
MARIE_MOBILE = "+33612345678"
PHONE_ASSERTION_SECRET = "test-channel-assertion-secret-0123456789"


# The filler's wait in the tests that do not test it: long enough for a loaded machine's
# first call never to get a filler (the filler's tests set their own short wait).
SLOW_MACHINE_SECONDS = 30


class SlowAssistant(StandInAssistant):
    """The stand-in assistant, taking `delay` seconds to answer (a slow action server)."""

    delay = 0.0

    async def handle_message(self, message: UserMessage) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        await super().handle_message(message)


class Gateway:
    """VoiceAI Connect as its Bot API documentation describes it, posting to a real server."""

    def __init__(self, domain: Domain, database, token: str = TOKEN) -> None:
        self.assistant = SlowAssistant(domain)
        self.store = CallStore(f"sqlite:///{database}")
        self.channel = AudiocodesInput(token, self.store, ADVISER_LINE, min_confidence=0.5, max_failures=2,
                                       filler_after_seconds=SLOW_MACHINE_SECONDS,
                                       phone_assertion_secret=PHONE_ASSERTION_SECRET)
        self.server = ChannelServer(self.channel, self.assistant, endpoint="webhook")
        self.bot_url = self.server.url

    def start(self) -> "Gateway":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.run(self.store.close())
        self.server.stop()

    def post(self, url: str, body: Any, token: Optional[str] = TOKEN) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return requests.post(url, data=data, headers=headers, timeout=15)

    def create(self, conversation: str) -> Dict[str, str]:
        """The create-conversation request; the URLs it returns, resolved as VoiceAI Connect does."""
        answer = self.post(self.bot_url, {"conversation": conversation, "id": str(uuid.uuid4()),
                                          "timestamp": _now(), "bot": "oyat", "capabilities": ["websocket"]})
        assert answer.status_code == 200, answer.text
        urls = answer.json()
        return {name: urljoin(self.bot_url, urls[name]) for name in ("activitiesURL", "refreshURL", "disconnectURL")}

    def activities(self, urls: Dict[str, str], conversation: str, *activities: Dict[str, Any]) -> requests.Response:
        return self.post(urls["activitiesURL"], {"conversation": conversation, "activities": list(activities)})

    def send(self, urls: Dict[str, str], conversation: str, *activities: Dict[str, Any]) -> List[Dict[str, Any]]:
        answer = self.activities(urls, conversation, *activities)
        assert answer.status_code == 200, answer.text
        return answer.json()["activities"]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def start_event(caller: Optional[str] = "0612345678") -> Dict[str, Any]:
    return {"id": str(uuid.uuid4()), "timestamp": _now(), "language": "fr-FR", "type": "event", "name": "start",
            "parameters": {"locale": "fr-FR", "caller": caller, "callee": "0825071100",
                           "callerHost": "10.0.0.1", "calleeHost": "10.0.0.2"}}


def message(text: str, confidence: float = 0.92) -> Dict[str, Any]:
    return {"id": str(uuid.uuid4()), "timestamp": _now(), "language": "fr-FR", "type": "message", "text": text,
            "parameters": {"confidence": confidence, "recognitionOutput": {"RecognitionStatus": "Success"}}}


def event(name: str, value: Any = None) -> Dict[str, Any]:
    activity = {"id": str(uuid.uuid4()), "timestamp": _now(), "type": "event", "name": name}
    if value is not None:
        activity["value"] = value
    return activity


def texts(activities: List[Dict[str, Any]]) -> str:
    return " ".join(a["text"] for a in activities if a["type"] == "message")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


@pytest.fixture(scope="module")
def gateway(domain, tmp_path_factory):
    running = Gateway(domain, tmp_path_factory.mktemp("audiocodes") / "ivr.db").start()
    yield running
    running.stop()


@pytest.fixture
def assistant(gateway):
    gateway.assistant.received.clear()
    gateway.assistant.replies = StandInAssistant.default_replies
    gateway.assistant.fails = False
    gateway.assistant.delay = 0.0
    gateway.channel.filler_after_seconds = SLOW_MACHINE_SECONDS
    return gateway.assistant


@pytest.fixture
def call(gateway, assistant):
    """A conversation from Marie's mobile, greeted: (its id, its URLs)."""
    conversation = str(uuid.uuid4())
    urls = gateway.create(conversation)
    gateway.send(urls, conversation, start_event())
    assistant.received.clear()
    return conversation, urls


# --- the conversation begins --------------------------------------------------------------------


def test_create_answers_relative_conversation_urls_and_their_lifetime(gateway, assistant):
    conversation = str(uuid.uuid4())
    answer = gateway.post(gateway.bot_url, {"conversation": conversation, "id": "1", "timestamp": _now()})
    assert answer.status_code == 200
    body = answer.json()
    assert body == {"activitiesURL": f"conversation/{conversation}/activities",
                    "refreshURL": f"conversation/{conversation}/refresh",
                    "disconnectURL": f"conversation/{conversation}/disconnect",
                    "expiresSeconds": 120}
    base = gateway.bot_url.rsplit("/", 1)[0]
    assert urljoin(gateway.bot_url, body["activitiesURL"]) == f"{base}/conversation/{conversation}/activities"
    refresh = gateway.post(urljoin(gateway.bot_url, body["refreshURL"]), {"conversation": conversation})
    assert refresh.status_code == 200 and refresh.json() == {"expiresSeconds": 120}


def test_the_start_event_greets_in_french_with_a_keypad_menu_and_activities_as_documented(gateway, assistant):
    conversation = str(uuid.uuid4())
    urls = gateway.create(conversation)
    activities = gateway.send(urls, conversation, start_event())
    assert [a["type"] for a in activities] == ["message", "message"]
    assert texts(activities).startswith("Bonjour")
    assert "Tapez 1 pour « Déclarer un sinistre » ou 2 pour « Recevoir une attestation »" in texts(activities)
    for activity in activities:
        uuid.UUID(activity["id"])
        assert datetime.strptime(activity["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    last = activities[-1]
    assert last["activityParams"] == {"bargeIn": True}
    assert last["sessionParams"] == {"sendDTMF": True, "dtmfCollect": True, "dtmfCollectSubmitDigit": "#",
                                     "dtmfCollectMaxDigits": 1}
    greeted = assistant.received[-1]
    assert (greeted.text, greeted.input_channel) == ("/greet", "ivr")
    assert greeted.sender_id == f"ivr:audiocodes/{conversation}"


def test_the_callers_number_is_e164_and_signed_for_the_telephone_line(gateway, assistant, call):
    conversation, urls = call
    gateway.send(urls, conversation, message("je veux une attestation"))
    sent = assistant.received[-1]
    assert sent.metadata["channel_phone"] == MARIE_MOBILE
    assert sent.metadata["client_source"] == f"ivr:{MARIE_MOBILE}"
    assert sent.metadata["asr_confidence"] == 0.92
    channel_assertion.verify(sent.metadata["channel_phone_assertion"], PHONE_ASSERTION_SECRET, phone=MARIE_MOBILE,
                             channel="ivr", conversation_id=sent.sender_id, now=datetime.now(timezone.utc))


def test_a_hidden_caller_is_not_identified_by_a_number(gateway, assistant):
    conversation = str(uuid.uuid4())
    urls = gateway.create(conversation)
    gateway.send(urls, conversation, start_event(caller="anonymous"))
    greeted = assistant.received[-1]
    assert "channel_phone" not in greeted.metadata and greeted.metadata["client_source"] == "ivr:hidden"


# --- what the caller says and types ---------------------------------------------------------------


def test_a_transcript_below_the_confidence_threshold_is_asked_again_and_not_acted_on(gateway, assistant, call):
    conversation, urls = call
    activities = gateway.send(urls, conversation, message("je veux résilier", confidence=0.3))
    assert assistant.received == []
    assert "répéter" in texts(activities) or "compris" in texts(activities)
    assert "Tapez 1" in texts(activities)  # the last question again


def test_spoken_numbers_reach_the_assistant_as_digits(gateway, assistant, call):
    conversation, urls = call
    gateway.send(urls, conversation, message("mon sinistre est le S I N vingt-six zéro zéro zéro quarante-deux"))
    assert "26" in assistant.received[-1].text


def test_a_key_of_the_menu_sends_the_payload_of_its_button(gateway, assistant, call):
    conversation, urls = call
    gateway.send(urls, conversation, event("DTMF", "2"))
    assert assistant.received[-1].text == "/request_attestation"
    assert assistant.received[-1].metadata["input_mode"] == "dtmf"


def test_collected_digits_ended_by_the_pound_key_reach_the_assistant(gateway, assistant, call):
    conversation, urls = call
    gateway.send(urls, conversation, event("DTMF", "2"))  # no menu any more
    gateway.send(urls, conversation, event("DTMF", "15031985#"))
    assert assistant.received[-1].text == "15031985"


def test_two_silences_in_a_row_offer_an_adviser(gateway, assistant, call):
    conversation, urls = call
    first = gateway.send(urls, conversation, event("noUserInput", 1))
    assert assistant.received == [] and "Tapez 1" in texts(first)
    gateway.send(urls, conversation, event("noUserInput", 2))
    assert assistant.received[-1].text == "/request_human"


def test_a_transfer_carries_the_handoff_reference_only_in_a_sip_header(gateway, assistant, call):
    conversation, urls = call
    assistant.replies = lambda m: [{"text": "Je vous passe un conseiller."},
                                   {"custom": {"ivr": "transfer", "reference": "TRF-2026-000123",
                                               "summary": "Marie Dupont, née le 15/03/1985"}}]
    activities = gateway.send(urls, conversation, message("je veux parler à un conseiller"))
    assert [a["type"] for a in activities] == ["message", "event"]
    transfer = activities[-1]
    assert transfer["name"] == "transfer"
    assert transfer["activityParams"] == {
        "transferTarget": f"tel:{ADVISER_LINE}",
        "transferSipHeaders": [{"name": "X-Oyat-Handoff", "value": "TRF-2026-000123"}],
    }
    assert "Dupont" not in json.dumps(activities) and "1985" not in json.dumps(activities)


def test_a_failed_transfer_gives_the_call_back_to_the_assistant(gateway, assistant, call):
    conversation, urls = call
    activities = gateway.send(urls, conversation, event("transferStatus", {
        "status": "failed", "reasonCode": "declined", "reason": "SIP ;cause=603 ;text=\"{603 Decline}\""}))
    assert activities and activities[0]["type"] == "message" and assistant.received == []
    answered = gateway.send(urls, conversation, event("transferStatus", {"status": "answered"}))
    assert answered == []
    assert gateway.activities(urls, conversation, message("allô")).status_code == 410


def test_the_assistant_ending_the_call_hangs_up(gateway, assistant, call):
    conversation, urls = call
    assistant.replies = lambda m: [{"text": "Au revoir."}, {"custom": {"ivr": "hangup"}}]
    activities = gateway.send(urls, conversation, message("c'est tout merci"))
    assert activities[-1]["type"] == "event" and activities[-1]["name"] == "hangup"


def test_unknown_events_are_not_acted_on(gateway, assistant, call):
    conversation, urls = call
    assert gateway.send(urls, conversation, event("someFutureEvent", {"x": 1})) == []
    assert assistant.received == []


# --- once, and in time -----------------------------------------------------------------------------


def test_a_replayed_activity_gets_the_same_answer_and_is_processed_once(gateway, assistant, call):
    conversation, urls = call
    activity = message("je veux une attestation")
    first = gateway.send(urls, conversation, activity)
    again = gateway.send(urls, conversation, activity)
    assert again == first and len(assistant.received) == 1
    reused = dict(activity, text="autre chose")
    assert gateway.activities(urls, conversation, reused).status_code == 409


def test_a_retry_arriving_while_the_first_is_answered_waits_for_the_same_answer(gateway, assistant, call):
    conversation, urls = call
    assistant.delay = 1.0
    activity = message("je veux une attestation")
    answers: List[requests.Response] = []

    def post() -> None:
        answers.append(gateway.activities(urls, conversation, activity))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert len(assistant.received) == 1


def test_a_slow_assistant_is_covered_by_a_filler_and_its_answer_comes_next(gateway, assistant, call):
    conversation, urls = call
    gateway.channel.filler_after_seconds = 0.5
    assistant.delay = 1.5
    filler = gateway.send(urls, conversation, message("je veux une attestation"))
    assert texts(filler) == "Un instant, s'il vous plaît."
    time.sleep(1.0)  # VoiceAI Connect's no-input timeout runs
    # VoiceAI Connect reports the silence while the caller waits: the answer comes, the silence is not counted.
    later = gateway.send(urls, conversation, event("noUserInput", 1))
    assert texts(later) == "Bien reçu : je veux une attestation. Autre chose ?"
    assert [m.text for m in assistant.received] == ["je veux une attestation"]


def test_an_assistant_that_fails_gets_a_retryable_error(gateway, assistant, call):
    conversation, urls = call
    assistant.fails = True
    activity = message("je veux une attestation")
    assert gateway.activities(urls, conversation, activity).status_code == 503
    assistant.fails = False
    assert "Bien reçu" in texts(gateway.send(urls, conversation, activity))


# --- the end of the conversation ---------------------------------------------------------------------


def test_after_disconnect_the_conversation_refuses_activities_and_refreshes(gateway, assistant, call):
    conversation, urls = call
    answer = gateway.post(urls["disconnectURL"], {"conversation": conversation, "reason": "Client Side",
                                                  "reasonCode": "client-disconnected"})
    assert answer.status_code == 200
    assert gateway.activities(urls, conversation, message("allô")).status_code == 410
    assert gateway.post(urls["refreshURL"], {"conversation": conversation}).status_code == 410
    assert assistant.received == []


def test_a_disconnect_while_the_assistant_is_slow_still_ends_the_call(gateway, assistant, call):
    conversation, urls = call
    gateway.channel.filler_after_seconds = 0.3
    assistant.delay = 1.0
    assert texts(gateway.send(urls, conversation, message("je veux une attestation"))) == "Un instant, s'il vous plaît."
    assert gateway.post(urls["disconnectURL"], {"conversation": conversation, "reason": "x"}).status_code == 200
    assert gateway.activities(urls, conversation, event("noUserInput", 1)).status_code == 410


# --- who may post, and what ---------------------------------------------------------------------------


def test_every_request_without_the_token_is_refused_401_and_with_a_wrong_one_403(gateway, assistant, call):
    conversation, urls = call
    requests_ = [(gateway.bot_url, {"conversation": str(uuid.uuid4())}),
                 (urls["activitiesURL"], {"conversation": conversation, "activities": [message("allô")]}),
                 (urls["refreshURL"], {"conversation": conversation}),
                 (urls["disconnectURL"], {"conversation": conversation, "reason": "x"})]
    for url, body in requests_:
        missing = gateway.post(url, body, token=None)
        assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
        assert gateway.post(url, body, token=TOKEN + "x").status_code == 403
        assert gateway.post(url, body, token="").status_code in (401, 403)
    assert assistant.received == []
    assert gateway.send(urls, conversation, message("toujours là")), "the call went on"


def test_without_a_configured_token_everything_is_refused(domain, tmp_path):
    unconfigured = Gateway(domain, tmp_path / "ivr.db", token="").start()
    try:
        assert unconfigured.post(unconfigured.bot_url, {"conversation": "c1"}, token="").status_code in (401, 403)
        assert unconfigured.post(unconfigured.bot_url, {"conversation": "c1"}, token=TOKEN).status_code == 403
    finally:
        unconfigured.stop()


def test_invalid_requests_are_refused_and_nothing_is_done(gateway, assistant, call):
    conversation, urls = call
    assert gateway.post(urls["activitiesURL"], b"{not json").status_code == 400
    assert gateway.post(urls["activitiesURL"], b"[" * 100 + b"]" * 100).status_code == 400
    assert gateway.post(urls["activitiesURL"], b'{"activities": "' + b"x" * 70_000 + b'"}').status_code == 413
    other = {"conversation": "another", "activities": [message("allô")]}
    assert gateway.post(urls["activitiesURL"], other).status_code == 400
    assert gateway.activities(urls, conversation, message("allô", confidence=7)).status_code == 422
    assert gateway.activities(urls, conversation, dict(message("allô"), id="../x")).status_code == 422
    assert gateway.activities(urls, conversation, event("DTMF", "12a")).status_code == 422
    assert gateway.post(gateway.bot_url, {"conversation": "a b"}).status_code == 422
    unknown = str(uuid.uuid4())
    assert gateway.activities({"activitiesURL": urls["activitiesURL"].replace(conversation, unknown)},
                              unknown, message("allô")).status_code == 404
    assert gateway.post(gateway.bot_url, {"conversation": conversation}).status_code == 409
    assert assistant.received == []
