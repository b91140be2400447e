"""Whole phone calls through AudioCodes VoiceAI Connect's Bot API (HTTP mode), with the real
stack: the requests VoiceAI Connect sends as its documentation describes them (create,
activities, refresh, disconnect, bearer token), the activities it gets back."""

import re
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional
from urllib.parse import urljoin

import pytest
import requests

from connectors.guard import conversation_id
from connectors.speech import to_speech
from tests.actions.test_handoff_promises import no_adviser_at_console
from tests.dialogue.conftest import AUDIOCODES_TOKEN, ROOT
from tests.reference_services.helpers import query, sent_messages

MARIE_MOBILE = "0612345678"
BIRTH_DATE_SAID = "le douze mars mille neuf cent quatre-vingt-cinq"
# Seconds each activities request of these calls took to be answered (VoiceAI Connect waits a few).
ANSWER_SECONDS: List[float] = []


@pytest.fixture(scope="module", autouse=True)
def answer_times_reported():
    """The figures of docs/ivr-api.md (« Deadline »), printed with `-s`. That the filler bounds
    every answer is pinned with a slow assistant in tests/connectors/test_audiocodes.py: a time
    is never asserted on a shared machine (make bench measures performance)."""
    yield
    if ANSWER_SECONDS:
        ordered = sorted(ANSWER_SECONDS)
        print(f"\nAudioCodes activities: {len(ordered)} answers, median {statistics.median(ordered):.2f} s, "
              f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.2f} s, max {ordered[-1]:.2f} s")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class VoiceAIConnect:
    """One call, as VoiceAI Connect carries it to the bot URL."""

    def __init__(self, stack, caller: Optional[str] = MARIE_MOBILE, token: str = AUDIOCODES_TOKEN) -> None:
        self.bot_url = f"{stack.url}/webhooks/audiocodes/webhook"
        self.token = token
        self.caller = caller
        self.conversation = str(uuid.uuid4())
        self.urls: Dict[str, str] = {}

    def post(self, url: str, body: Dict[str, Any]) -> requests.Response:
        return requests.post(url, json=body, headers={"Authorization": f"Bearer {self.token}"}, timeout=60)

    def create(self) -> Dict[str, Any]:
        answer = self.post(self.bot_url, {"conversation": self.conversation, "id": str(uuid.uuid4()),
                                          "timestamp": _now(), "bot": "oyat", "capabilities": []})
        assert answer.status_code == 200, answer.text
        created = answer.json()
        # Relative URLs resolve against the bot URL.
        self.urls = {name: urljoin(self.bot_url, created[name]) for name in ("activitiesURL", "refreshURL", "disconnectURL")}
        return created

    def post_activities(self, *activities: Dict[str, Any]) -> requests.Response:
        started = time.perf_counter()
        answer = self.post(self.urls["activitiesURL"], {"conversation": self.conversation, "activities": list(activities)})
        ANSWER_SECONDS.append(time.perf_counter() - started)
        return answer

    def send(self, *activities: Dict[str, Any]) -> List[Dict[str, Any]]:
        answer = self.post_activities(*activities)
        assert answer.status_code == 200, answer.text
        return answer.json()["activities"]

    def start(self) -> List[Dict[str, Any]]:
        self.create()
        return self.send(activity("event", name="start", language="fr-FR", parameters={
            "locale": "fr-FR", "caller": self.caller, "callee": "0825071100",
            "callerHost": "10.0.0.1", "calleeHost": "10.0.0.2"}))

    def say(self, text: str, confidence: float = 0.91) -> List[Dict[str, Any]]:
        return self.send(activity("message", text=text, language="fr-FR",
                                  parameters={"confidence": confidence, "recognitionOutput": {}}))

    def press(self, digits: str) -> List[Dict[str, Any]]:
        return self.send(activity("event", name="DTMF", value=digits))

    def silence(self, count: int) -> List[Dict[str, Any]]:
        return self.send(activity("event", name="noUserInput", value=count))

    def disconnect(self, reason_code: str = "client-disconnected") -> requests.Response:
        return self.post(self.urls["disconnectURL"], {"conversation": self.conversation, "reason": "Client Side",
                                                      "reasonCode": reason_code})


def activity(kind: str, **fields: Any) -> Dict[str, Any]:
    return {"id": str(uuid.uuid4()), "timestamp": _now(), "type": kind, **fields}


def heard(activities: List[Dict[str, Any]]) -> str:
    return " ".join(a["text"] for a in activities if a["type"] == "message")


def events(activities: List[Dict[str, Any]]) -> List[str]:
    return [a["name"] for a in activities if a["type"] == "event"]


def test_marie_gets_her_attestation_emailed_once_and_a_replay_sends_nothing_more(rasa_stack, services):
    call = VoiceAIConnect(rasa_stack)
    greeting = call.start()
    assert heard(greeting).startswith("Bonjour") and "Tapez 1" in heard(greeting)
    assert all(a["id"] and a["timestamp"] for a in greeting)
    assert greeting[-1]["sessionParams"]["dtmfCollect"] is True

    before = sent_messages(services, "marie.dupont@example.fr")
    asked = heard(call.say("il me faut une attestation d'assurance pour ma voiture"))
    assert "date de naissance" in asked
    # Identified by the number she calls from and her date of birth, said in words.
    said = activity("message", text=BIRTH_DATE_SAID, parameters={"confidence": 0.9})
    reply = call.send(said)
    assert "identité est vérifiée" in heard(reply) and "envoyée par e-mail" in heard(reply)
    assert not re.search(r"https?://", heard(reply))
    # VoiceAI Connect retries the same activity: the same answer, nothing sent again.
    assert call.send(said) == reply
    sent = sent_messages(services, "marie.dupont@example.fr")
    assert len(sent) == len(before) + 1 and "AUT-482913" in sent[-1]["subject"]

    refresh = call.post(call.urls["refreshURL"], {"conversation": call.conversation})
    assert refresh.status_code == 200 and refresh.json()["expiresSeconds"] > 0
    goodbye = call.say("au revoir")
    assert events(goodbye) == ["hangup"]
    assert call.disconnect().status_code == 200
    assert call.post_activities(activity("message", text="allô", parameters={"confidence": 0.9})).status_code == 410


def test_a_claim_status_asked_with_a_spelled_claim_number(rasa_stack):
    call = VoiceAIConnect(rasa_stack)
    call.start()
    asked = call.say("où en est mon dossier s i n deux mille vingt-six sept cent trente et un")
    assert "date de naissance" in heard(asked)
    answer = heard(call.say(BIRTH_DATE_SAID))
    assert "identité est vérifiée" in answer
    assert to_speech("SIN-2026-000731").text.rstrip(".") in answer and "expertise" in answer


def test_keypad_choices_a_low_confidence_turn_and_two_silences(rasa_stack, services):
    call = VoiceAIConnect(rasa_stack, caller="+33698765432")
    greeting = heard(call.start())
    attestation = next(digit for digit, title in re.findall(r"(\d) pour « ([^»]+) »", greeting) if "attestation" in title)

    # A low-confidence transcript: asked to repeat, nothing acted on (the menu is still on offer).
    unsure = heard(call.say("je veux résilier mon contrat", confidence=0.2))
    assert "Tapez 1" in unsure and "résili" not in unsure.lower()

    before = sent_messages(services, "s.martin@example.fr")
    asked = heard(call.press(attestation))
    assert "date de naissance" in asked
    # Collected digits ended by the pound key, as the bot asks VoiceAI Connect to collect them.
    answer = heard(call.press("05111990#"))
    assert "identité est vérifiée" in answer and "envoyée par e-mail" in answer
    assert len(sent_messages(services, "s.martin@example.fr")) == len(before) + 1

    # Two silences in a row: asked again, then the line offers an adviser (out of hours: the call ends).
    first = call.silence(1)
    assert "entends pas" in heard(first) and events(first) == []
    second = call.silence(2)
    assert events(second) == ["hangup"]


@pytest.fixture
def nobody_at_the_console(services):
    no_adviser_at_console(services)


def test_in_office_hours_a_caller_is_transferred_with_the_reference_in_a_sip_header(
        rasa_stack_in_office_hours, services, nobody_at_the_console):
    call = VoiceAIConnect(rasa_stack_in_office_hours, caller="+33612345678")
    call.start()
    reply = call.say("je voudrais parler à un conseiller")
    [transfer] = [a for a in reply if a["type"] == "event" and a["name"] == "transfer"]
    [(reference,)] = query(services, "SELECT reference FROM handoffs WHERE conversation_id = ?",
                           [conversation_id("ivr", f"audiocodes/{call.conversation}")])
    assert transfer["activityParams"] == {
        "transferTarget": "tel:+33825071122",
        "transferSipHeaders": [{"name": "X-Oyat-Handoff", "value": reference}],
    }
    # VoiceAI Connect reports the adviser took the call; then it closes the conversation.
    assert call.send(activity("event", name="transferStatus", value={"status": "answered"})) == []
    assert call.disconnect("transferred").status_code == 200


def test_a_wrong_or_missing_token_is_refused(rasa_stack):
    call = VoiceAIConnect(rasa_stack, token="not-the-token")
    answer = requests.post(call.bot_url, json={"conversation": call.conversation}, timeout=30,
                           headers={"Authorization": "Bearer not-the-token"})
    assert answer.status_code == 403
    assert requests.post(call.bot_url, json={"conversation": call.conversation}, timeout=30).status_code == 401


def test_make_phone_places_a_call_through_audiocodes(rasa_stack, services):
    """`make phone GATEWAY=audiocodes`: Sophie calls, stays silent once, picks the attestation."""
    typed = "\n".join(["", "#2", "le cinq novembre mille neuf cent quatre-vingt-dix", "au revoir", ""])
    before = len(sent_messages(services, "s.martin@example.fr"))
    result = subprocess.run(
        [sys.executable, "-m", "devtools.phone_simulator", "--url", rasa_stack.url, "--caller", "06 98 76 54 32",
         "--gateway", "audiocodes"],
        input=typed, capture_output=True, text=True, timeout=180, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "AUDIOCODES_TOKEN": AUDIOCODES_TOKEN, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    assert "Bonjour" in shown and "Je ne vous entends pas." in shown and "(écoute" in shown
    assert "envoyée par e-mail" in shown and "(l'assistant raccroche" in shown
    sent = sent_messages(services, "s.martin@example.fr")
    assert len(sent) == before + 1 and "PRO-700215" in sent[-1]["subject"]

