"""The telephone line in our own JSON protocol: a voice gateway posts call events, we
answer with voice actions.

    POST /webhooks/ivr/events   (contract: docs/ivr-api.md)

For gateways that can be scripted (and `make phone`): the gateway turns speech into text
and speaks our replies; this adapter checks who posts (connectors.ivr_events.authenticate)
and what (parse_event), and writes the call core's voice actions back as they are
(connectors.call_core: idempotency per event id, confidence gate, spoken numbers, keypad
menus, failures counted, transfer, the caller's signed number; the same for every protocol).

A call's conversation is `ivr:<call id>` (connectors.guard.conversation_id): no other
channel can name it.
"""

import logging
import time
from typing import Any, Dict, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.call_core import CALL_STARTED, WANTS_ADVISER, CallCore, Outcome, VoiceOutput, e164
from connectors.guard import UnreadableJson, read_json
from connectors.ivr_actions import CHANNEL
from connectors.ivr_calls import CallStore
from connectors.ivr_events import InvalidEvent, Refused, authenticate, body_digest, parse_event
from connectors.pipeline import ChannelPipeline, PipelineChannel
from core import channel_assertion
from core.settings import read

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Kept importable from here (tests, fuzzing).
__all__ = ["CALL_STARTED", "WANTS_ADVISER", "IvrInput", "VoiceOutput", "e164"]


class IvrInput(PipelineChannel):
    """Rasa input channel of the voice gateway. Nothing said is a button's payload: the
    `/intent` shortcut is never open (a keypad choice sends the payload of the button it stands for)."""

    shortcuts = False

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "IvrInput":
        credentials = credentials or {}
        return cls(
            token=read("IVR_GATEWAY_TOKEN"),
            signing_secret=read("IVR_SIGNING_SECRET"),
            phone_assertion_secret=read(channel_assertion.SECRET_VARIABLE),
            store=CallStore(read("IVR_DATABASE_URL")),
            adviser_line=str(credentials.get("adviser_line", "+33825071122")),
            min_confidence=float(credentials.get("min_confidence", 0.5)),
            max_failures=int(credentials.get("max_failures", 2)),
        )

    def __init__(self, token: str, signing_secret: str, store: CallStore, adviser_line: str,
                 min_confidence: float = 0.5, max_failures: int = 2, phone_assertion_secret: str = "") -> None:
        if not token and not signing_secret:
            logger.warning("IVR_GATEWAY_TOKEN and IVR_SIGNING_SECRET are not set: the telephone line refuses every event")
        if not phone_assertion_secret:
            logger.warning("%s is not set: callers cannot be identified by their number",
                           channel_assertion.SECRET_VARIABLE)
        self.token = token
        self.signing_secret = signing_secret
        self.phone_assertion_secret = phone_assertion_secret
        self.store = store
        self.core = CallCore(store, adviser_line, min_confidence, max_failures, phone_assertion_secret)

    def routes(self, pipeline: ChannelPipeline) -> Blueprint:
        webhook = Blueprint("oyat_ivr_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/events", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            raw = request.body or b""
            if len(raw) > MAX_BODY_BYTES:
                return _error(413, "payload_too_large", "Événement trop volumineux.")
            try:
                authenticate(request.headers, raw, self.token, self.signing_secret, int(time.time()))
                event = parse_event(_decode(raw))
            except Refused as refused:
                headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
                return _error(refused.status, refused.code, refused.message, headers=headers)
            except InvalidEvent as invalid:
                return _error(invalid.status, invalid.code, invalid.message, invalid.details)

            def render(actions: Any) -> Dict[str, Any]:
                return {"call_id": event.call_id, "event_id": event.event_id, "actions": actions}

            outcome = await self.core.answer(event, body_digest(raw), request.app.ctx.agent, pipeline, render)
            return _reply(outcome)

        return webhook


def _reply(outcome: Outcome) -> HTTPResponse:
    if outcome.reply is not None:
        return response.json(outcome.reply)
    return _error(outcome.status, outcome.code, outcome.message, headers=outcome.headers or None)


def _decode(raw: bytes) -> Any:
    try:
        return read_json(raw)
    except UnreadableJson as unreadable:
        message = ("Le corps de la requête est imbriqué trop profondément." if unreadable.reason == "too_deep"
                   else "Le corps de la requête doit être un objet JSON.")
        raise InvalidEvent(400, "bad_request", message) from None


def _error(status: int, code: str, message: str, details: Optional[Dict[str, str]] = None,
           headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    error: Dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return response.json({"error": error}, status=status, headers=headers)
