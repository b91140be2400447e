"""The REST channel (`/webhooks/rest/webhook`), through the channel pipeline (connectors.pipeline).

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
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guard import METADATA_PROBLEMS, UnreadableJson, conversation_id, read_json, screen_metadata
from connectors.pipeline import ChannelPipeline, PipelineChannel, Refusal
from connectors.rate_limit import retry_after

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


def _polite(words: str, sender: Any = None, status: int = 200,
            headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    """An answer in words, as the assistant's own (with `recipient_id` once the sender is known)."""
    message = {"text": words}
    if isinstance(sender, str):
        message = {"recipient_id": sender, **message}
    return response.json([message], status=status, headers=headers)


def _refused(pipeline: ChannelPipeline, agent: Any, refusal: Refusal, sender: Any = None) -> HTTPResponse:
    """A refusal in the domain's words; too many messages: 429 with `Retry-After`."""
    words = pipeline.words(agent, refusal)
    if refusal.code == "too_many_messages":
        return _polite(words, sender, 429, {"Retry-After": retry_after(refusal.wait_seconds or 0)})
    return _polite(words, sender)


class GuardedRestInput(PipelineChannel, RestInput):
    """Rasa's REST channel with bounded input, through the channel pipeline."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def routes(self, pipeline: ChannelPipeline) -> Blueprint:
        webhook = Blueprint("oyat_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            agent = request.app.ctx.agent
            ip = request.remote_addr or request.ip
            refusal = await pipeline.check_address(ip)
            if refusal is not None:
                return _refused(pipeline, agent, refusal)
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
            # A client's metadata refused is an error of its integration: told in JSON, with the reason.
            screened_metadata = screen_metadata(body.get("metadata"))
            if screened_metadata.problem:
                status = 413 if screened_metadata.problem == "too_large" else 400
                code = "metadata_too_large" if status == 413 else "bad_request"
                return _error(status, code, METADATA_PROBLEMS[screened_metadata.problem])
            arrival = await pipeline.arrive(conversation_id(self.name(), sender))
            collector = CollectingOutputChannel()
            # Files, phone numbers and the source: the channel's, never the client's.
            refusal = await pipeline.receive(agent, arrival, collector, body.get("message"), f"ip:{ip}",
                                             client_metadata=screened_metadata.metadata)
            if refusal is not None:
                return _refused(pipeline, agent, refusal, sender)
            # The client knows its conversation by the sender it chose.
            return response.json([{**message, "recipient_id": sender} for message in collector.messages])

        return webhook
