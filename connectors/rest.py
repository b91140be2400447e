"""The REST channel (`/webhooks/rest/webhook`), with the checks of connectors.guard.

Same request and answer as Rasa's RestInput: `{"sender", "message", "metadata"}` in,
a JSON list of messages out, each with `recipient_id` the sender as the client sent it.
Refused input gets a JSON error: 413 for a body over MAX_BODY_BYTES or metadata over
connectors.guard.MAX_METADATA_BYTES, 400 for a malformed or too deeply nested body or
metadata; or a polite answer that never reaches the NLU (empty or oversized message);
too many messages from one address or one sender get a 429 with a polite answer
(connectors.rate_limit). Nothing refused is processed or stored.

The client chooses its sender; the conversation is `rest:<sender>` (connectors.guard.
conversation_id), so no REST client can continue a conversation of another channel.
The sender is also the conversation's only key on this channel (whoever sends it again
continues the conversation, identity included): it must be one nobody can guess, a UUID
or as random; short or repetitive senders are refused (`unguessable_sender`).
"""

import logging
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guard import (
    CLIENT_SOURCE,
    METADATA_PROBLEMS,
    REFUSALS,
    UnreadableJson,
    conversation_id,
    offered_payloads,
    read_json,
    screen_metadata,
    screen_text,
    without_shortcut,
)
from connectors.rate_limit import check_rate, rate_limiter, refusal_text, retry_after
from server_extensions.action_endpoint import answer_when_actions_fail
from server_extensions.startup import prepare_rasa_server

logger = logging.getLogger(__name__)

MAX_SENDER_LENGTH = 128
# A UUID has 32 hex digits: 16 characters with 8 different ones keeps out names
# (« demo », « marie »), counters and runs a stranger would try first.
MIN_SENDER_LENGTH = 16
MIN_SENDER_DISTINCT_CHARACTERS = 8
# As the balancer's client_max_body_size (deploy/nginx/oyat.conf): an oversized message
# within it still gets the polite answer; the metadata has its own, smaller limit.
MAX_BODY_BYTES = 1024 * 1024
NOT_AN_OBJECT = "Le corps de la requête doit être un objet JSON."
TOO_LARGE = f"Le corps de la requête dépasse {MAX_BODY_BYTES // (1024 * 1024)} Mo."
TOO_DEEP = "Le corps de la requête est imbriqué trop profondément."


def unguessable_sender(sender: Any) -> bool:
    """Whether `sender` can key a conversation: printable text of 16 to 128 characters,
    at least 8 of them different."""
    return (
        isinstance(sender, str)
        and MIN_SENDER_LENGTH <= len(sender) <= MAX_SENDER_LENGTH
        and sender.isprintable()
        and len(set(sender)) >= MIN_SENDER_DISTINCT_CHARACTERS
    )


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=status)


def _bad_request(message: str) -> HTTPResponse:
    return _error(400, "bad_request", message)


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
            wait = await check_rate(ip=ip)
            if wait is not None:
                return _too_many_messages(wait)
            raw = request.body or b""
            if len(raw) > MAX_BODY_BYTES:
                return _error(413, "payload_too_large", TOO_LARGE)
            try:
                body = read_json(raw)
            except UnreadableJson as unreadable:
                if unreadable.reason == "too_deep":
                    return _bad_request(TOO_DEEP)
                return _bad_request(NOT_AN_OBJECT)
            if not isinstance(body, dict):
                return _bad_request(NOT_AN_OBJECT)
            sender = body.get("sender")
            if not unguessable_sender(sender):
                return _bad_request(
                    "« sender » doit être un identifiant que personne ne peut deviner, de 16 à 128 caractères "
                    "imprimables (un UUID par exemple) : il donne accès à la conversation.")
            screened_metadata = screen_metadata(body.get("metadata"))
            if screened_metadata.problem:
                status = 413 if screened_metadata.problem == "too_large" else 400
                code = "metadata_too_large" if status == 413 else "bad_request"
                return _error(status, code, METADATA_PROBLEMS[screened_metadata.problem])
            # Files, phone numbers and the source: the channel's, never the client's.
            metadata = {**screened_metadata.metadata, CLIENT_SOURCE: f"ip:{ip}"}
            conversation = conversation_id(self.name(), sender)
            wait = await check_rate(sender=conversation)
            if wait is not None:
                return _too_many_messages(wait, sender)

            screened = screen_text(body.get("message"))
            if screened.refusal:
                return response.json([{"recipient_id": sender, "text": REFUSALS[screened.refusal]}])
            text = screened.text
            if text.startswith("/"):
                tracker = await request.app.ctx.agent.tracker_store.retrieve(conversation)
                text = without_shortcut(text, offered_payloads(tracker.events if tracker else []))

            collector = CollectingOutputChannel()
            answer_when_actions_fail(request.app.ctx.agent)  # again after a model reload
            await on_new_message(
                UserMessage(text, collector, conversation, input_channel=self.name(), metadata=metadata)
            )
            # The client knows its conversation by the sender it chose.
            return response.json([{**message, "recipient_id": sender} for message in collector.messages])

        return webhook
