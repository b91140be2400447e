"""Claim notices delivered by the Rasa server's notice route (bot/notices.py) on each channel,
against the fake platforms, and the notifier process (connectors/notifier.py) between a
stand-in of the services' notice routes and that route: once, whatever dies in the middle."""

import asyncio
import os
import queue
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import requests
import socketio
from aiohttp import web
from rasa.shared.core.events import BotUttered, UserUttered

from bot import notices
from bot.notices import notices_blueprint
from connectors.messenger import MessengerInput
from connectors.telegram import TelegramInput
from connectors.whatsapp import WhatsAppInput
from connectors.widget import WidgetInput, conversation_history
from harness.servers import LoopThread, free_port, wait_for
from tests.connectors.channel_server import ScriptedAgent, serve_channels
from tests.connectors.fake_platform import FakePlatformApi

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "notifier-token-for-tests"
TEXT = "Votre sinistre SIN-2026-000731 avance : l'expert passera le jeudi 10 décembre à 14 h."
WA_ID, CHAT_ID, PSID = "33612345678", "424242", "6543210987654321"


class SlowOrFailingPlatform(FakePlatformApi):
    """The fake platform, which can answer slowly or refuse (a test sets `delay`, `fail`)."""

    delay: float = 0.0
    fail: bool = False
    # (status, body) every send is answered with: the platform's own refusal.
    refusal: Optional[Tuple[int, Dict[str, Any]]] = None

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        answer = await super()._answer(request)  # recorded as it arrives
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            return web.json_response({"error": {"message": "unavailable", "code": 2}}, status=503)
        if self.refusal:
            return web.json_response(self.refusal[1], status=self.refusal[0])
        return answer


class NoticeServer:
    """The four notice channels registered as Rasa registers them, the notice route, and a
    ScriptedAgent's in-memory trackers behind them."""

    def __init__(self, api_url: str) -> None:
        self.agent = ScriptedAgent()
        self.widget = WidgetInput.from_credentials(None)
        self.channels = [
            self.widget,
            WhatsAppInput("wa-token", "wa-secret", "wa-verify", "1122334455", api_url=api_url),
            TelegramInput("123:abc", "tg-secret", api_url=api_url),
            MessengerInput("page-token", "fb-secret", "fb-verify", api_url=api_url),
        ]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = LoopThread()

    def start(self) -> "NoticeServer":
        self._server = serve_channels(self._thread, self.port, self.agent, self.channels, [notices_blueprint()])
        return self

    def stop(self) -> None:
        self._thread.call_soon(self._server.close)
        self._thread.stop()

    def run(self, coroutine: Any) -> Any:
        return self._thread.run(coroutine)

    def conversation(self, conversation_id: str, channel: str, hours_ago: float = 0.1) -> str:
        """A conversation whose customer last wrote `hours_ago` hours ago."""
        async def create() -> None:
            tracker = await self.agent.tracker_store.get_or_create_tracker(conversation_id)
            tracker.update(UserUttered("je declare un sinistre", input_channel=channel,
                                       timestamp=time.time() - hours_ago * 3600))
            tracker.update(BotUttered("C'est noté."))
            await self.agent.tracker_store.save(tracker)
        self.run(create())
        return conversation_id

    def events(self, conversation_id: str) -> List[Any]:
        async def read() -> List[Any]:
            return list((await self.agent.tracker_store.retrieve(conversation_id)).events)
        return self.run(read())

    def notice(self, conversation_id: str, body: Dict[str, Any], token: Optional[str] = TOKEN) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return requests.post(f"{self.url}/notices/conversations/{conversation_id}", json=body, headers=headers,
                             timeout=30)


def told(events: List[Any]) -> List[Any]:
    return [(e.text, e.metadata.get("notice")) for e in events if isinstance(e, BotUttered) and e.metadata]


@pytest.fixture(scope="module")
def platform():
    api = SlowOrFailingPlatform().start()
    yield api
    api.stop()


@pytest.fixture
def api(platform):
    platform.clear()
    platform.delay, platform.fail, platform.refusal = 0.0, False, None
    return platform


@pytest.fixture
def server(api, monkeypatch):
    monkeypatch.setenv("NOTIFIER_TOKEN", TOKEN)
    monkeypatch.setattr(notices, "_delivered", notices.DeliveredNotices(shared=None))
    running = NoticeServer(api.url).start()
    yield running
    running.stop()


def body(notice_id: str, channel: str, address: str, **more: Any) -> Dict[str, Any]:
    return {"notice_id": notice_id, "channel": channel, "address": address, "text": TEXT, **more}


# --- the route, channel by channel -----------------------------------------------------

def test_telegram_gets_the_notice_once_and_it_lands_in_the_history(server, api):
    conversation = server.conversation("telegram:c1", "telegram")
    first = server.notice(conversation, body("n-1", "telegram", CHAT_ID))
    again = server.notice(conversation, body("n-1", "telegram", CHAT_ID))
    assert first.status_code == 200 and first.json() == {"delivered": True, "duplicate": False}
    assert again.status_code == 200 and again.json() == {"delivered": True, "duplicate": True}
    sent = api.sent("/sendMessage")
    assert [(c.json["chat_id"], c.json["text"]) for c in sent] == [(int(CHAT_ID), TEXT)]
    assert told(server.events(conversation)) == [(TEXT, "n-1")]


def test_whatsapp_inside_the_window_gets_a_text(server, api):
    conversation = server.conversation("whatsapp:c2", "whatsapp", hours_ago=2)
    assert server.notice(conversation, body("n-2", "whatsapp", WA_ID)).status_code == 200
    (call,) = api.sent("/messages")
    assert call.json["to"] == WA_ID and call.json["type"] == "text" and call.json["text"]["body"] == TEXT


def test_whatsapp_outside_the_window_gets_the_approved_template_with_the_text(server, api):
    conversation = server.conversation("whatsapp:c3", "whatsapp", hours_ago=30)
    assert server.notice(conversation, body("n-3", "whatsapp", WA_ID)).status_code == 200
    (call,) = api.sent("/messages")
    assert call.json["to"] == WA_ID and call.json["type"] == "template"
    assert call.json["template"] == {
        "name": "suivi_sinistre", "language": {"policy": "deterministic", "code": "fr"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": TEXT}]}]}
    assert told(server.events(conversation)) == [(TEXT, "n-3")]


def test_whatsapp_takes_the_template_the_services_name(server, api):
    conversation = server.conversation("whatsapp:c4", "whatsapp", hours_ago=48)
    template = {"name": "visite_expert", "language": "fr", "parameters": ["SIN-2026-000731", "10/12 à 14 h"]}
    assert server.notice(conversation, body("n-4", "whatsapp", WA_ID, template=template)).status_code == 200
    (call,) = api.sent("/messages")
    assert call.json["template"]["name"] == "visite_expert"
    assert [p["text"] for p in call.json["template"]["components"][0]["parameters"]] == template["parameters"]


def test_messenger_gets_the_notice_with_the_account_update_tag(server, api):
    conversation = server.conversation("messenger:c5", "messenger", hours_ago=72)
    assert server.notice(conversation, body("n-5", "messenger", PSID)).status_code == 200
    (call,) = api.sent("/messages")
    assert call.json == {"recipient": {"id": PSID}, "messaging_type": "MESSAGE_TAG", "tag": "ACCOUNT_UPDATE",
                         "message": {"text": TEXT}}
    assert call.query["access_token"] == "page-token"


def test_a_platform_that_refuses_leaves_the_notice_to_be_retried(server, api):
    conversation = server.conversation("telegram:c6", "telegram")
    api.fail = True
    refused = server.notice(conversation, body("n-6", "telegram", CHAT_ID))
    assert refused.status_code == 502 and refused.json()["code"] == "platform_error"
    assert told(server.events(conversation)) == []
    api.fail = False
    assert server.notice(conversation, body("n-6", "telegram", CHAT_ID)).json()["duplicate"] is False
    assert told(server.events(conversation)) == [(TEXT, "n-6")]


# The platforms' own answers for a user they will never reach (their documented errors).
TELEGRAM_BLOCKED = (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
TELEGRAM_NO_CHAT = (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
WHATSAPP_UNDELIVERABLE = (400, {"error": {"message": "Message undeliverable", "type": "OAuthException",
                                          "code": 131026, "fbtrace_id": "A1b2C3"}})
MESSENGER_UNAVAILABLE = (400, {"error": {"message": "(#551) This person isn't available right now.",
                                         "type": "OAuthException", "code": 551, "error_subcode": 1545041}})
WHATSAPP_RATE_LIMITED = (400, {"error": {"message": "Rate limit hit", "type": "OAuthException", "code": 130429}})
TELEGRAM_TOO_MANY = (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 5",
                           "parameters": {"retry_after": 5}})


GONE = (410, "recipient_gone")  # no use retrying: the notifier asks for the e-mail at once
RETRY = (502, "platform_error")  # passing: tried again later


@pytest.mark.parametrize("channel, address, refusal, answer", [
    ("telegram", CHAT_ID, TELEGRAM_BLOCKED, GONE), ("telegram", CHAT_ID, TELEGRAM_NO_CHAT, GONE),
    ("whatsapp", WA_ID, WHATSAPP_UNDELIVERABLE, GONE), ("messenger", PSID, MESSENGER_UNAVAILABLE, GONE),
    ("telegram", CHAT_ID, TELEGRAM_TOO_MANY, RETRY), ("whatsapp", WA_ID, WHATSAPP_RATE_LIMITED, RETRY)])
def test_a_customer_the_platform_will_never_reach_is_gone_and_a_passing_refusal_retried(
        server, api, channel, address, refusal, answer):
    conversation = server.conversation(f"{channel}:g-{uuid.uuid4().hex[:6]}", channel)
    api.refusal = refusal
    refused = server.notice(conversation, body(f"n-g-{uuid.uuid4().hex[:6]}", channel, address))
    assert (refused.status_code, refused.json()["code"]) == answer
    assert told(server.events(conversation)) == []


def test_the_widget_customer_with_the_page_open_sees_the_notice_live_and_in_the_history(server):
    session = uuid.uuid4().hex
    conversation = server.conversation(f"widget:{session}", "widget")
    received: "queue.Queue" = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("session_confirm", "history", "bot_uttered"):
        client.on(name, lambda data=None, name=name: received.put((name, data)))
    client.connect(server.url, transports=["polling"], socketio_path="/socket.io", wait_timeout=20)
    try:
        client.emit("session_request", {"session_id": session})
        assert received.get(timeout=10)[0] == "session_confirm"
        assert received.get(timeout=10)[0] == "history"
        answer = server.notice(conversation, body("n-7", "widget", conversation))
        assert answer.status_code == 200, answer.text
        assert received.get(timeout=10) == ("bot_uttered", {"text": TEXT})
    finally:
        client.eio.disconnect(abort=True)
    history = server.run(conversation_history(server.events(conversation)))
    assert history[-1] == {"sender": "bot", "text": TEXT}


def test_the_widget_customer_without_the_page_open_is_not_connected(server):
    conversation = server.conversation(f"widget:{uuid.uuid4().hex}", "widget")
    answer = server.notice(conversation, body("n-8", "widget", conversation))
    assert answer.status_code == 409 and answer.json()["code"] == "not_connected"
    assert told(server.events(conversation)) == []


def test_only_the_notifiers_token_opens_the_route(server, api, monkeypatch):
    conversation = server.conversation("telegram:c9", "telegram")
    for token in (None, "wrong", os.environ.get("ADVISER_CONSOLE_TOKEN", "console")):
        assert server.notice(conversation, body("n-9", "telegram", CHAT_ID), token=token).status_code == 401
    monkeypatch.setenv("NOTIFIER_TOKEN", "")
    assert server.notice(conversation, body("n-9", "telegram", CHAT_ID), token="").status_code == 401
    assert api.sent("/sendMessage") == []


@pytest.mark.parametrize("change", [{"channel": "sms"}, {"text": ""}, {"address": None}, {"notice_id": ""}])
def test_an_invalid_notice_is_refused(server, change):
    conversation = server.conversation("telegram:c10", "telegram")
    answer = server.notice(conversation, {**body("n-10", "telegram", CHAT_ID), **change})
    assert answer.status_code == 422


def test_a_notice_for_an_unknown_conversation_is_not_found(server, api):
    assert server.notice("telegram:nobody", body("n-11", "telegram", CHAT_ID)).status_code == 404
    assert api.sent("/sendMessage") == []


async def test_the_replicas_remember_delivered_notices_in_redis(redis_server):
    from connectors.shared_state import SharedRedis

    environ = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server.port),
               "REDIS_PASSWORD": redis_server.password}
    one = notices.DeliveredNotices(SharedRedis.from_environment(environ))
    other = notices.DeliveredNotices(SharedRedis.from_environment(environ))
    notice_id = uuid.uuid4().hex
    assert await one.claim(notice_id) and not await other.claim(notice_id)
    await one.release(notice_id)  # a failed delivery: tried again, by any replica
    assert await other.claim(notice_id)


# --- the notifier between the services and the Rasa server -------------------------------

class FakeNoticeServices:
    """The services' notifier routes as D specifies them, with a lease of `lease_seconds`."""

    def __init__(self, notices: List[Dict[str, Any]], lease_seconds: float = 1.0) -> None:
        self.queue = {str(n["id"]): {**n, "status": "queued", "until": 0.0} for n in notices}
        self.lease_seconds = lease_seconds
        self.reports: List[tuple] = []
        self.leased: List[str] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = LoopThread()

    def start(self) -> "FakeNoticeServices":
        async def serve() -> web.AppRunner:
            app = web.Application()
            app.router.add_post("/v1/notices/lease", self._lease)
            app.router.add_post("/v1/notices/{id}/{what}", self._report)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            return runner
        self._runner = self._thread.start(serve)
        return self

    def stop(self) -> None:
        self._thread.run(self._runner.cleanup())
        self._thread.stop()

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def _lease(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({}, status=401)
        now, due = time.time(), []
        for notice in self.queue.values():
            if notice["status"] == "queued" or (notice["status"] == "sending" and notice["until"] <= now):
                notice["status"], notice["until"] = "sending", now + self.lease_seconds
                self.leased.append(str(notice["id"]))
                due.append({k: v for k, v in notice.items() if k not in ("status", "until")})
        return web.json_response({"notices": due})

    async def _report(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({}, status=401)
        notice = self.queue[request.match_info["id"]]
        what = request.match_info["what"]
        self.reports.append((request.match_info["id"], what, await request.json()))
        notice["status"] = {"delivered": "delivered", "fallback": "delivered"}.get(what, "queued")
        return web.json_response({})


def lease_of(notice_id: str, conversation: str, channel: str, address: str) -> Dict[str, Any]:
    return {"id": notice_id, "kind": "claim_event", "customer_id": "10000001", "claim_number": "SIN-2026-000731",
            "event": "expert_visit_set", "channel": channel, "address": address, "conversation_id": conversation,
            "text": TEXT, "template": {"name": "suivi_sinistre", "language": "fr", "parameters": [TEXT]}}


def notifier_process(services: FakeNoticeServices, server: NoticeServer, log: Path) -> subprocess.Popen:
    env = {**os.environ, "NOTIFIER_TOKEN": TOKEN, "POLICY_SERVICE_URL": services.url, "RASA_SERVER_URL": server.url, "NOTIFIER_POLL_SECONDS": "0.2"}
    return subprocess.Popen([sys.executable, "-m", "connectors.notifier"], cwd=ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def test_the_notifier_delivers_falls_back_and_reports_each_notice(server, api, tmp_path):
    telegram = server.conversation("telegram:p1", "telegram")
    widget = server.conversation(f"widget:{uuid.uuid4().hex}", "widget")  # no page open
    services = FakeNoticeServices([lease_of("21", telegram, "telegram", CHAT_ID),
                                   lease_of("22", widget, "widget", widget)]).start()
    process = notifier_process(services, server, tmp_path / "notifier.log")
    try:
        wait_for(lambda: len(services.reports) == 2, 30, lambda: (tmp_path / "notifier.log").read_text())
        assert sorted((r[0], r[1]) for r in services.reports) == [("21", "delivered"), ("22", "fallback")]
        assert [c.json["text"] for c in api.sent("/sendMessage")] == [TEXT]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0  # a clean stop
    finally:
        if process.poll() is None:
            process.kill()
        services.stop()


def test_a_notifier_killed_while_the_platform_is_slow_delivers_after_restart_once(server, api, tmp_path):
    conversation = server.conversation("telegram:p2", "telegram")
    services = FakeNoticeServices([lease_of("31", conversation, "telegram", CHAT_ID)], lease_seconds=1.0).start()
    log = tmp_path / "notifier.log"
    api.delay = 3.0
    first = notifier_process(services, server, log)
    try:
        wait_for(lambda: api.sent("/sendMessage"), 30, lambda: log.read_text())
        first.kill()  # in the middle: the platform has the message, nobody told the services
        first.wait(timeout=10)
        assert services.reports == []
        api.delay = 0.0
        second = notifier_process(services, server, log)
        try:
            wait_for(lambda: services.reports, 30, lambda: log.read_text())
            assert [(r[0], r[1]) for r in services.reports] == [("31", "delivered")]
            assert services.leased.count("31") >= 2  # the lease lapsed and was taken again
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=15)
    finally:
        if first.poll() is None:
            first.kill()
        services.stop()
    assert [c.json["text"] for c in api.sent("/sendMessage")] == [TEXT]  # once
    assert told(server.events(conversation)) == [(TEXT, "31")]  # and in the history once


def test_at_the_last_attempt_a_notice_the_platform_keeps_refusing_goes_by_email(server, api, tmp_path):
    conversation = server.conversation("telegram:p3", "telegram")
    api.fail = True
    notices = [lease_of("51", conversation, "telegram", CHAT_ID), {**lease_of("52", conversation, "telegram", CHAT_ID),
                                                                   "last_attempt": True}]
    services = FakeNoticeServices(notices).start()
    process = notifier_process(services, server, tmp_path / "notifier.log")
    try:
        wait_for(lambda: len(services.reports) >= 2, 30, lambda: (tmp_path / "notifier.log").read_text())
        assert sorted((r[0], r[1]) for r in services.reports[:2]) == [("51", "failed"), ("52", "fallback")]
        assert [r[2] for r in services.reports if r[0] == "51"][0]["retry"] is True
    finally:
        process.kill()
        process.wait(timeout=10)
        services.stop()


def test_a_notice_to_a_customer_who_blocked_the_bot_goes_by_email_at_once(server, api, tmp_path):
    conversation = server.conversation("telegram:p4", "telegram")
    api.refusal = TELEGRAM_BLOCKED
    services = FakeNoticeServices([lease_of("61", conversation, "telegram", CHAT_ID)]).start()
    process = notifier_process(services, server, tmp_path / "notifier.log")
    try:
        wait_for(lambda: services.reports, 30, lambda: (tmp_path / "notifier.log").read_text())
        assert [(r[0], r[1]) for r in services.reports] == [("61", "fallback")]  # first attempt, no retry
        assert len(api.sent("/sendMessage")) == 1
    finally:
        process.kill()
        process.wait(timeout=10)
        services.stop()


def test_the_notifier_reports_a_failure_to_retry_when_the_rasa_server_is_down(tmp_path):
    async def one() -> Any:
        from connectors.notifier import Notifier

        notifier = Notifier("http://127.0.0.1:9", f"http://127.0.0.1:{free_port()}", TOKEN)
        try:
            return await notifier.hand_to_rasa(lease_of("41", "telegram:x", "telegram", CHAT_ID))
        finally:
            await notifier.close()
    outcome = asyncio.run(one())
    assert outcome.kind == "retry"


# --- the widget on several replicas (REDIS_HOST) ------------------------------------------

@pytest.fixture
def replica_with_redis(redis_server, api, monkeypatch):
    """A Rasa replica whose widget notes its sockets in Redis; `presence` stands for another
    replica's (its own Redis client)."""
    from connectors import shared_state, widget_presence
    from connectors.shared_state import SharedRedis

    environ = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server.port), "REDIS_PASSWORD": redis_server.password}
    for name, value in {**environ, "NOTIFIER_TOKEN": TOKEN}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(shared_state, "_shared", None)
    monkeypatch.setattr(shared_state, "_read", False)
    monkeypatch.setattr(widget_presence, "_presence", None)
    monkeypatch.setattr(notices, "_delivered", None)
    running = NoticeServer(api.url).start()
    running.presence = lambda: widget_presence.WidgetPresence(SharedRedis.from_environment(environ))
    yield running
    running.stop()


def test_a_page_open_on_another_replica_counts_as_connected(replica_with_redis):
    server = replica_with_redis
    conversation = server.conversation(f"widget:{uuid.uuid4().hex}", "widget")
    asyncio.run(server.presence().arrive(conversation, "a-socket-of-another-replica"))
    assert server.notice(conversation, body("n-20", "widget", conversation)).status_code == 200
    asyncio.run(server.presence().leave(conversation, "a-socket-of-another-replica"))
    assert server.notice(conversation, body("n-21", "widget", conversation)).json()["code"] == "not_connected"


def test_the_widget_notes_its_open_pages_for_the_other_replicas(replica_with_redis):
    server = replica_with_redis
    session = uuid.uuid4().hex
    received: "queue.Queue" = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("session_confirm", lambda data=None: received.put(data))
    client.connect(server.url, transports=["polling"], socketio_path="/socket.io", wait_timeout=20)
    try:
        client.emit("session_request", {"session_id": session})
        assert received.get(timeout=10) == session
        assert asyncio.run(server.presence().elsewhere(f"widget:{session}"))
    finally:
        client.disconnect()
    wait_for(lambda: not asyncio.run(server.presence().elsewhere(f"widget:{session}")), 10, "the page stays noted")


def test_a_template_parameter_is_sent_on_one_line_as_the_cloud_api_takes_it():
    from connectors.whatsapp import notice_template

    message = notice_template("suivi_sinistre", "fr", ["Visite de l'expert :\n\tjeudi      10 décembre"])
    (parameter,) = message["template"]["components"][0]["parameters"]
    assert parameter == {"type": "text", "text": "Visite de l'expert : jeudi 10 décembre"}
