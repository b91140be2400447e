"""A claim moved by the back-office command (`reference_services.cli claims advance`) is
announced to the customer who agreed to it, on the channel of that consent, by the notifier
process through the real Rasa server (bot/notices.py) and the policy service's notice
routes: Telegram, WhatsApp (the approved template outside the 24-hour window), Messenger,
the widget with the page open (else an e-mail); never after STOP; once when the notifier
is killed in the middle."""

import queue
import signal
import subprocess
import sys
import time
import uuid
from itertools import count
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import requests
import socketio

from connectors.guard import conversation_id
from core import reply_address
from core.clock import now_utc
from harness.servers import wait_for
from tests.conftest import TEST_CHANNEL_ASSERTION_SECRET, TEST_NOTIFIER_TOKEN
from tests.reference_services.helpers import execute, query

ROOT = Path(__file__).resolve().parents[2]
CLAIM, MARIE = "SIN-2026-000731", "10000001"
_visits = count(1)


class NotifierProcess:
    """`python -m connectors.notifier` between the test services and the Rasa server."""

    def __init__(self, services: Any, rasa_url: str, log: Path) -> None:
        self.env = {**services.env, "POLICY_SERVICE_URL": services.base_url, "RASA_SERVER_URL": rasa_url,
                    "NOTIFIER_TOKEN": TEST_NOTIFIER_TOKEN, "NOTIFIER_POLL_SECONDS": "0.3"}
        self.log = log
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "NotifierProcess":
        self.process = subprocess.Popen([sys.executable, "-m", "connectors.notifier"], cwd=ROOT, env=self.env,
                                        stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def notifier(services, rasa_stack, tmp_path_factory):
    process = NotifierProcess(services, rasa_stack.url, tmp_path_factory.mktemp("notifier") / "notifier.log").start()
    yield process
    if process.process.poll() is None:
        assert process.stop() == 0  # a clean stop on SIGTERM


@pytest.fixture(scope="module", autouse=True)
def marie_s_claim_as_it_was(services):
    """The tests move Marie's claim (a new expert's visit each time); the tests after these,
    sharing the services, expect it as the demo data has it (the expert on 3 December)."""
    [(phase, appointment)] = query(services, "SELECT phase, expert_appointment FROM claims WHERE claim_number = ?",
                                   (CLAIM,))
    [(last_event,)] = query(services, "SELECT COALESCE(MAX(id), 0) FROM claim_phase_events")
    yield
    execute(services, "UPDATE claims SET phase = ?, expert_appointment = ? WHERE claim_number = ?",
            (phase, appointment, CLAIM))
    execute(services, "DELETE FROM claim_phase_events WHERE id > ?", (last_event,))


@pytest.fixture(autouse=True)
def no_consent_of_marie_left(services):
    """Each test gives the consent it needs; none is left for the next one."""
    withdraw(services)
    yield
    withdraw(services)


def withdraw(services: Any, assertion: Optional[str] = None) -> None:
    body = {"reply_address_assertion": assertion} if assertion else {"customer_id": MARIE}
    answer = services.post("/v1/notice-consents/withdraw", json=body, identified_as=MARIE if not assertion else None)
    assert answer.status_code == 200, answer.text


def conversation(rasa_stack: Any, conversation: str, channel: str, hours_ago: float = 0.1) -> str:
    """A conversation whose customer last wrote `hours_ago` hours ago (Rasa's HTTP API)."""
    event = {"event": "user", "text": "bonjour", "timestamp": time.time() - hours_ago * 3600,
             "input_channel": channel, "parse_data": {"intent": {"name": "greet", "confidence": 1.0},
                                                        "entities": [], "text": "bonjour"}}
    answer = requests.post(f"{rasa_stack.url}/conversations/{conversation}/tracker/events",
                           params={"token": rasa_stack.api_token}, json=[event], timeout=10)
    assert answer.status_code == 200, answer.text
    return conversation


def consent(services: Any, channel: str, address: str, conversation: str) -> str:
    """Marie's « oui, prévenez-moi ici », with the address the channel signed; the assertion."""
    assertion = reply_address.issue(TEST_CHANNEL_ASSERTION_SECRET, channel, address, conversation, now_utc())
    answer = services.post(f"/v1/customers/{MARIE}/notice-consents", json={
        "channel": channel, "conversation_id": conversation, "reply_address_assertion": assertion})
    assert answer.status_code in (200, 201), answer.text
    return assertion


def advance(services: Any) -> str:
    """The back-office command: the expert's visit of Marie's claim set (a new time each call)."""
    n = next(_visits)
    visit = f"2027-{1 + n // 27:02d}-{1 + n % 27:02d}T14:00"
    done = subprocess.run([sys.executable, "-m", "reference_services.cli", "claims", "advance", CLAIM,
                           "--phase", "expertise", "--expert-visit", visit],
                          cwd=ROOT, env=services.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return visit


def last_notice(services: Any) -> Dict[str, Any]:
    rows = query(services, "SELECT id, status, delivered_by, channel, text FROM notices ORDER BY id DESC LIMIT 1")
    return dict(zip(("id", "status", "delivered_by", "channel", "text"), rows[0], strict=True)) if rows else {}


def notices_count(services: Any) -> int:
    return query(services, "SELECT COUNT(*) FROM notices")[0][0]


def delivered(services: Any, notifier: NotifierProcess, before: int) -> Dict[str, Any]:
    """Waits until the notice queued after `before` notices is delivered; that notice."""
    def done() -> Optional[Dict[str, Any]]:
        notice = last_notice(services)
        return notice if notices_count(services) > before and notice["status"] == "delivered" else None
    return wait_for(done, 60, lambda: f"{last_notice(services)}\n{notifier.output()[-3000:]}")


def told(rasa_stack: Any, conversation: str) -> List[Dict[str, Any]]:
    answer = requests.get(f"{rasa_stack.url}/conversations/{conversation}/tracker",
                          params={"token": rasa_stack.api_token}, timeout=10)
    return [e for e in answer.json()["events"] if e["event"] == "bot" and (e.get("metadata") or {}).get("notice")]


def test_telegram_is_told_of_the_experts_visit(services, rasa_stack, messaging_platform, notifier):
    chat = "7" + uuid.uuid4().hex[:8].translate(str.maketrans("abcdef", "123456"))
    talk = conversation(rasa_stack, f"telegram:{uuid.uuid4().hex}", "telegram")
    consent(services, "telegram", chat, talk)
    before = notices_count(services)
    advance(services)
    notice = delivered(services, notifier, before)
    assert (notice["channel"], notice["delivered_by"]) == ("telegram", "channel")
    sent = [c.json for c in messaging_platform.sent("/sendMessage") if str(c.json.get("chat_id")) == chat]
    assert [m["text"] for m in sent] == [notice["text"]] and "expert" in notice["text"]
    assert [e["text"] for e in told(rasa_stack, talk)] == [notice["text"]]


def test_whatsapp_outside_the_window_gets_the_approved_template(services, rasa_stack, messaging_platform, notifier):
    number = "336" + str(uuid.uuid4().int)[:8]
    talk = conversation(rasa_stack, f"whatsapp:{uuid.uuid4().hex}", "whatsapp", hours_ago=30)
    consent(services, "whatsapp", number, talk)
    before = notices_count(services)
    advance(services)
    notice = delivered(services, notifier, before)
    (sent,) = [c.json for c in messaging_platform.sent("/messages") if c.json.get("to") == number]
    assert sent["type"] == "template" and sent["template"]["name"] == "suivi_sinistre"
    assert sent["template"]["language"]["code"] == "fr"
    assert notice["delivered_by"] == "channel"


def test_messenger_is_told_with_the_account_update_tag(services, rasa_stack, messaging_platform, notifier):
    psid = str(uuid.uuid4().int)[:16]
    talk = conversation(rasa_stack, f"messenger:{uuid.uuid4().hex}", "messenger", hours_ago=50)
    consent(services, "messenger", psid, talk)
    before = notices_count(services)
    advance(services)
    notice = delivered(services, notifier, before)
    (sent,) = [c.json for c in messaging_platform.sent("/messages")
               if (c.json.get("recipient") or {}).get("id") == psid]
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "ACCOUNT_UPDATE")
    assert sent["message"] == {"text": notice["text"]}


def test_the_widget_with_the_page_open_shows_the_notice(services, rasa_stack, notifier):
    session = uuid.uuid4().hex
    talk = conversation(rasa_stack, conversation_id("widget", session), "widget")
    received: "queue.Queue" = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("session_confirm", "history", "bot_uttered"):
        client.on(name, lambda data=None, name=name: received.put((name, data)))
    client.connect(rasa_stack.url, transports=["polling"], socketio_path="/socket.io", wait_timeout=20)
    try:
        client.emit("session_request", {"session_id": session})
        assert received.get(timeout=10)[0] == "session_confirm"
        assert received.get(timeout=10)[0] == "history"
        consent(services, "widget", talk, talk)
        before = notices_count(services)
        advance(services)
        notice = delivered(services, notifier, before)
        assert notice["delivered_by"] == "channel"
        assert received.get(timeout=30) == ("bot_uttered", {"text": notice["text"]})
    finally:
        client.eio.disconnect(abort=True)


def test_the_widget_without_the_page_open_gets_an_email_instead(services, rasa_stack, notifier):
    talk = conversation(rasa_stack, conversation_id("widget", uuid.uuid4().hex), "widget")
    consent(services, "widget", talk, talk)
    before = notices_count(services)
    advance(services)
    notice = delivered(services, notifier, before)
    assert notice["delivered_by"] == "fallback_email"
    assert told(rasa_stack, talk) == []


def test_a_customer_who_said_stop_gets_nothing(services, rasa_stack, messaging_platform, notifier):
    chat = "8" + str(uuid.uuid4().int)[:8]
    talk = conversation(rasa_stack, f"telegram:{uuid.uuid4().hex}", "telegram")
    withdraw(services, consent(services, "telegram", chat, talk))  # « STOP » from that chat
    before = notices_count(services)
    advance(services)
    assert notices_count(services) == before  # nothing queued, so nothing ever sent
    assert not [c for c in messaging_platform.sent("/sendMessage") if str(c.json.get("chat_id")) == chat]


def test_a_notifier_killed_while_the_platform_is_slow_delivers_after_restart_once(
        services, rasa_stack, messaging_platform, notifier, monkeypatch):
    chat = "9" + str(uuid.uuid4().int)[:8]
    talk = conversation(rasa_stack, f"telegram:{uuid.uuid4().hex}", "telegram")
    consent(services, "telegram", chat, talk)
    original = messaging_platform._reply

    def slow(method: str, path: str, body: Any) -> Any:  # the platform's thread answers 3 s late
        if path.endswith("/sendMessage") and str((body or {}).get("chat_id")) == chat:
            time.sleep(3)
        return original(method, path, body)

    monkeypatch.setattr(messaging_platform, "_reply", slow)
    to_chat = lambda: [c for c in messaging_platform.sent("/sendMessage") if str(c.json.get("chat_id")) == chat]  # noqa: E731
    before = notices_count(services)
    advance(services)
    wait_for(to_chat, 60, notifier.output)
    notifier.kill()  # the platform has the message; nobody told the services
    monkeypatch.setattr(messaging_platform, "_reply", original)
    notice = last_notice(services)
    assert notices_count(services) == before + 1 and notice["status"] == "sending"
    # Its lease lapses (60 s in the services: moved back here rather than waited for).
    execute(services, "UPDATE notices SET next_attempt_at = ? WHERE id = ?", ("2000-01-01 00:00:00", notice["id"]))
    notifier.start()
    assert delivered(services, notifier, before)["delivered_by"] == "channel"
    assert len(to_chat()) == 1  # once
    assert [e["text"] for e in told(rasa_stack, talk)] == [notice["text"]]
