"""The REST channel (`/webhooks/rest/webhook`), with the checks of connectors.guard.

Same request and answer as Rasa's RestInput: `{"sender", "message", "metadata"}` in,
a JSON list of messages out. Refused input gets a 400 JSON error (malformed body) or a
polite answer that never reaches the NLU (empty or oversized message); too many
messages from one address or one sender get a 429 with a polite answer
(connectors.rate_limit).
"""

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guard import REFUSALS, client_metadata, offered_payloads, screen_text, without_shortcut
from connectors.rate_limit import check_rate, rate_limiter, refusal_text, retry_after
from server_extensions.action_endpoint import answer_when_actions_fail
from server_extensions.startup import prepare_rasa_server

logger = logging.getLogger(__name__)

MAX_SENDER_LENGTH = 128


def _bad_request(message: str) -> HTTPResponse:
    return response.json({"error": {"code": "bad_request", "message": message}}, status=400)


def _utf8(value: Any) -> bool:
    """False when `value` holds lone surrogates (« \ud800 »): not text, and neither the
    conversation store nor the answer could encode it."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_many_messages(wait_seconds: float, sender: Any = None) -> HTTPResponse:
    message = {"text": refusal_text(wait_seconds)}
    if isinstance(sender, str):
        message = {"recipient_id": sender, **message}
    return response.json([message], status=429, headers={"Retry-After": retry_after(wait_seconds)})


class GuardedRestInput(RestInput):
    """Rasa's REST channel with bounded input and the `/intent` shortcut closed."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("oyat_rest_webhook", __name__)
        webhook.listener("after_server_start")(prepare_rasa_server)
        rate_limiter()  # a bad RATE_LIMIT_* setting stops the server now

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            ip = request.remote_addr or request.ip
            wait = check_rate(ip=ip)
            if wait is not None:
                return _too_many_messages(wait)
            try:
                body = request.json
            except Exception:  # sanic raises on invalid JSON or invalid UTF-8
                return _bad_request("Le corps de la requête doit être un objet JSON.")
            if not isinstance(body, dict):
                return _bad_request("Le corps de la requête doit être un objet JSON.")
            sender, metadata = body.get("sender"), body.get("metadata") or {}
            if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_LENGTH or not sender.isprintable():
                return _bad_request("« sender » doit être un texte de 1 à 128 caractères imprimables.")
            if not isinstance(metadata, dict) or not _utf8(metadata):
                return _bad_request("« metadata » doit être un objet JSON.")
            metadata = client_metadata(metadata)  # files and phone numbers: channels only
            wait = check_rate(sender=sender)
            if wait is not None:
                return _too_many_messages(wait, sender)

            screened = screen_text(body.get("message"))
            if screened.refusal:
                return response.json([{"recipient_id": sender, "text": REFUSALS[screened.refusal]}])
            text = screened.text
            if text.startswith("/"):
                tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
                text = without_shortcut(text, offered_payloads(tracker.events if tracker else []))

            collector = CollectingOutputChannel()
            answer_when_actions_fail(request.app.ctx.agent)  # again after a model reload
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            )
            return response.json(collector.messages)

        return webhook
