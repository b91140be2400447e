"""A local stand-in for the messaging platforms' HTTP APIs (Graph API, Telegram Bot API).

It runs an aiohttp server in its own thread, records every call, answers what the real
APIs answer for the calls the connectors make (messages, read receipts and typing
indicators, sender actions, chat actions, Telegram's setWebhook / getWebhookInfo /
deleteWebhook), and serves the media files a test puts in `files`.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Tuple

from aiohttp import web

from harness.servers import LoopThread, free_port, wait_for


@dataclass
class Call:
    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    json: Any


@dataclass
class FakePlatformApi:
    port: int = field(default_factory=free_port)
    calls: List[Call] = field(default_factory=list)
    # path -> (content, content type): media files, and Telegram's `/file/bot<token>/<path>`.
    files: Dict[str, Tuple[bytes, str]] = field(default_factory=dict)
    # The webhook Telegram would call (setWebhook's parameters), as getWebhookInfo tells it.
    telegram_webhook: Dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakePlatformApi":
        async def serve() -> web.AppRunner:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._answer)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            return runner

        self._thread = LoopThread()
        self._runner = self._thread.start(serve)
        return self

    def stop(self) -> None:
        self._thread.run(self._runner.cleanup())
        self._thread.stop()

    def clear(self) -> None:
        self.calls.clear()

    def sent(self, path_end: str) -> List[Call]:
        """POST calls whose path ends with `path_end` (e.g. "/messages", "/sendMessage")."""
        return [c for c in self.calls if c.method == "POST" and c.path.endswith(path_end)]

    def wait_for(self, condition: Callable[[], Any], seconds: float = 10) -> Any:
        return wait_for(condition, seconds, lambda: f"calls: {[(c.method, c.path) for c in self.calls]}")

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = request.path
        self.calls.append(Call(request.method, path, dict(request.query), dict(request.headers), body))
        if path in self.files:
            content, content_type = self.files[path]
            return web.Response(body=content, content_type=content_type)
        answer, status = self._reply(request.method, path, body)
        return web.json_response(answer, status=status)

    def _reply(self, method: str, path: str, body: Any) -> Tuple[Any, int]:
        if path.endswith("/messages") and method == "POST":  # WhatsApp and Messenger send
            if isinstance(body, dict) and body.get("messaging_product") == "whatsapp":
                return {"messaging_product": "whatsapp", "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                        "messages": [{"id": f"wamid.fake{len(self.calls)}"}]}, 200
            return {"recipient_id": (body or {}).get("recipient", {}).get("id"), "message_id": f"m_{len(self.calls)}"}, 200
        if "/bot" in path:  # Telegram
            method_name = path.rsplit("/", 1)[-1]
            if method_name == "getFile":
                file_id = (body or {}).get("file_id", "")
                return {"ok": True, "result": {"file_id": file_id, "file_unique_id": file_id,
                                               "file_path": f"photos/{file_id}.jpg"}}, 200
            if method_name == "setWebhook":
                self.telegram_webhook = {k: v for k, v in (body or {}).items() if k != "drop_pending_updates"}
                return {"ok": True, "result": True, "description": "Webhook was set"}, 200
            if method_name == "deleteWebhook":
                self.telegram_webhook = {}
                return {"ok": True, "result": True, "description": "Webhook was deleted"}, 200
            if method_name == "getWebhookInfo":
                return {"ok": True, "result": {"url": self.telegram_webhook.get("url", ""),
                                               "has_custom_certificate": False, "pending_update_count": 0,
                                               "allowed_updates": self.telegram_webhook.get("allowed_updates", [])}}, 200
            if method_name in ("answerCallbackQuery", "sendChatAction"):
                return {"ok": True, "result": True}, 200
            return {"ok": True, "result": {"message_id": 1}}, 200
        media_id = path.strip("/").rsplit("/", 1)[-1]
        media_file = f"/media-files/{media_id}"
        if method == "GET" and media_file in self.files:  # WhatsApp media: its URL first
            content, content_type = self.files[media_file]
            return {"messaging_product": "whatsapp", "url": f"{self.url}{media_file}", "mime_type": content_type,
                    "sha256": "", "file_size": len(content), "id": media_id}, 200
        return {"error": {"message": "Unsupported request", "type": "GraphMethodException", "code": 100}}, 400


def meta_signed(body: Any, app_secret: str) -> Tuple[bytes, Dict[str, str]]:
    """A webhook body (JSON, or raw bytes as they are) and the signature header Meta sends with it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, {"X-Hub-Signature-256": "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()}


def whatsapp_media_path(media_id: str) -> str:
    return f"/media-files/{media_id}"


def telegram_file_path(bot_token: str, file_id: str) -> str:
    return f"/file/bot{bot_token}/photos/{file_id}.jpg"
