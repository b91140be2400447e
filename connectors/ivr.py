"""The telephone line: a voice gateway posts call events, we answer with voice actions.

    POST /webhooks/ivr/events   (contract: docs/ivr-api.md)

The gateway turns speech into text and speaks our replies; this channel
- checks who posts (connectors.ivr_events.authenticate) and what (parse_event);
- answers each event id once: a replayed event gets the stored reply (connectors.ivr_calls);
- picks the most confident transcription, re-prompts below `min_confidence` without
  calling the NLU, normalises spoken numbers (actions.parsing.spoken_numbers) before it;
- maps keypad digits to the buttons on offer;
- counts silences and unrecognised turns in a row: after `max_failures`, the caller is
  offered an adviser (the assistant's hand-off: a transfer in office hours), or the call ends;
- sends the caller's number, E.164, as metadata `channel_phone` with every message
  (identification by the phone on file plus the date of birth), signed for this call
  (`channel_phone_assertion`, bot/channel_assertion.py: the policy service identifies
  without a code only on it), and as the message's source
  (connectors.guard.CLIENT_SOURCE: `ivr:<number>`, `ivr:hidden` for a hidden one).

A call's conversation is `ivr:<call id>` (connectors.guard.conversation_id): no other
channel can name it.
"""

import asyncio
import logging
import os
import time
import zlib
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import phonenumbers
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.parsing.spoken_numbers import normalise_spoken_numbers
from bot import channel_assertion
from connectors.guard import (
    CLIENT_SOURCE,
    HIDDEN_CALLER,
    UnreadableJson,
    conversation_id,
    read_json,
    screen_text,
    without_shortcut,
)
from connectors.ivr_actions import VoiceReply, hangup, listen, say, voice_reply
from connectors.ivr_calls import DEFAULT_DATABASE_URL, Call, CallStore
from connectors.ivr_events import CallEvent, InvalidEvent, Refused, authenticate, body_digest, parse_event

logger = logging.getLogger(__name__)

CHANNEL = "ivr"
MAX_BODY_BYTES = 64 * 1024
# Connector-made messages (never typed nor said by the caller).
CALL_STARTED = "/greet"
WANTS_ADVISER = "/request_human"
# Words of the telephone line itself, in the domain (domain/phone.yml).
NO_INPUT_RESPONSE = "utter_ivr_no_input"
NO_MATCH_RESPONSE = "utter_ivr_no_match"
TRANSFER_FAILED_RESPONSE = "utter_ivr_transfer_failed"
LOCK_STRIPES = 64


class VoiceOutput(CollectingOutputChannel):
    """Collects the assistant's messages; named `ivr` so that `channel: ivr` variants apply."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL


class IvrInput(InputChannel):
    """Rasa input channel of the voice gateway."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "IvrInput":
        credentials = credentials or {}
        return cls(
            token=os.environ.get("IVR_GATEWAY_TOKEN", ""),
            signing_secret=os.environ.get("IVR_SIGNING_SECRET", ""),
            phone_assertion_secret=os.environ.get(channel_assertion.SECRET_VARIABLE, "").strip(),
            store=CallStore(os.environ.get("IVR_DATABASE_URL") or DEFAULT_DATABASE_URL),
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
        self.adviser_line = adviser_line
        self.min_confidence = min_confidence
        self.max_failures = max_failures
        # Events of one call are handled one at a time (a gateway waits for each reply).
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
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
            lock = self._locks[zlib.crc32(event.call_id.encode()) % LOCK_STRIPES]
            async with lock:
                return await self._answer(event, body_digest(raw), request, on_new_message)

        return webhook

    # --- one event, once -----------------------------------------------------------

    async def _answer(self, event: CallEvent, digest: str, request: Request,
                      on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        stored = await self.store.find_event(event.event_id)
        if stored is not None:
            if stored.body_digest != digest:
                return _error(409, "event_id_reused", "Cet identifiant d'événement a déjà servi pour un autre événement.")
            if stored.reply is None:
                return _error(409, "event_in_progress", "Cet événement est en cours de traitement.",
                              headers={"Retry-After": "1"})
            return response.json(stored.reply)

        call = await self.store.get_call(event.call_id)
        if event.type == "start" and call is not None:
            return _error(409, "call_already_started", "Cet appel a déjà commencé.")
        if event.type != "start" and call is None:
            return _error(404, "unknown_call", "Appel inconnu : il commence par un événement « start ».")
        if call is not None and call.ended and event.type != "hangup":
            return _error(409, "call_ended", "Cet appel est terminé.")
        if not await self.store.claim_event(event.event_id, event.call_id, digest):
            return _error(409, "event_in_progress", "Cet événement est en cours de traitement.",
                          headers={"Retry-After": "1"})

        if call is None:
            await self.store.purge()
            call = Call(call_id=event.call_id, sender_id=conversation_id(CHANNEL, event.call_id),
                        caller=e164(event.caller), started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        turn = _Turn(self, call, request, on_new_message)
        try:
            actions = await turn.handle(event)
        except Exception:
            logger.exception("event %s of call %s not processed", event.type, event.call_id)
            await self.store.release_event(event.event_id)
            return _error(503, "unavailable", "L'assistant ne peut pas répondre pour le moment ; renvoyez l'événement.")
        reply = {"call_id": event.call_id, "event_id": event.event_id, "actions": actions}
        await self.store.finish_event(event.event_id, reply, call)
        logger.info("call %s: %s answered with %s", event.call_id, event.type, [a["type"] for a in actions])
        return response.json(reply)


class _Turn:
    """What one event does to its call (the call's state is updated in place)."""

    def __init__(self, channel: IvrInput, call: Call, request: Request,
                 on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        self.channel, self.call, self.request, self.on_new_message = channel, call, request, on_new_message

    async def handle(self, event: CallEvent) -> List[Dict[str, Any]]:
        if event.type == "start":
            return await self.tell_assistant(CALL_STARTED, "call")
        if event.type == "utterance":
            return await self.utterance(event)
        if event.type == "dtmf":
            return await self.dtmf(event.digits or "")
        if event.type == "no_input":
            return await self.failed("no_input")
        if event.type == "hangup":
            self.end("hangup")
            return []
        return await self.transfer_status(event.transfer_status or "failed")

    async def utterance(self, event: CallEvent) -> List[Dict[str, Any]]:
        if not event.final:
            return []  # partial transcriptions are not answered
        best = max(event.alternatives, key=lambda alternative: alternative.confidence)
        screened = screen_text(best.transcript)
        if screened.refusal or best.confidence < self.channel.min_confidence:
            return await self.failed("no_match")
        # The "/intent" shortcut is never open to speech.
        text = without_shortcut(normalise_spoken_numbers(screened.text), set())
        return await self.tell_assistant(text, "speech", confidence=best.confidence)

    async def dtmf(self, digits: str) -> List[Dict[str, Any]]:
        if digits == "*":  # the caller asks to hear the question again
            return list(self.call.last_prompt) or await self.failed("no_match")
        pressed = digits.rstrip("#")
        if not pressed.strip("*"):
            return await self.failed("no_match")
        text = self.call.menu.get(pressed, pressed)
        return await self.tell_assistant(text, "dtmf")

    async def failed(self, kind: str) -> List[Dict[str, Any]]:
        """A silence or an unrecognised turn: re-prompt, or an adviser after `max_failures` in a row."""
        count = (self.call.no_input if kind == "no_input" else self.call.no_match) + 1
        self.call.no_input, self.call.no_match = (count, 0) if kind == "no_input" else (0, count)
        if count >= self.channel.max_failures:
            reply = await self.tell_assistant(WANTS_ADVISER, "call")
            if reply and reply[-1]["type"] == "listen":  # no adviser to take the call: it ends
                reply[-1] = hangup("no_adviser")
                self.end("no_adviser")
            return reply
        response_name = NO_INPUT_RESPONSE if kind == "no_input" else NO_MATCH_RESPONSE
        return [say(await self.words(response_name)), *(self.call.last_prompt or [listen()])]

    async def transfer_status(self, status: str) -> List[Dict[str, Any]]:
        if status == "completed":
            self.end("transferred")
            return []
        # No adviser took the call: the caller is told so and may go on with the assistant.
        self.call.no_input = self.call.no_match = 0
        self.call.menu = {}
        return [say(await self.words(TRANSFER_FAILED_RESPONSE)), listen()]

    async def tell_assistant(self, text: str, input_mode: str, confidence: Optional[float] = None) -> List[Dict[str, Any]]:
        """Sends `text` to the assistant as the caller's message; its answer as voice actions."""
        metadata: Dict[str, Any] = {
            "call_id": self.call.call_id, "input_mode": input_mode,
            CLIENT_SOURCE: f"{CHANNEL}:{self.call.caller or HIDDEN_CALLER}",
        }
        if self.call.caller:
            metadata["channel_phone"] = self.call.caller
            if self.channel.phone_assertion_secret:
                metadata[channel_assertion.METADATA_KEY] = channel_assertion.issue(
                    self.channel.phone_assertion_secret, self.call.caller, CHANNEL, self.call.sender_id,
                    datetime.now(timezone.utc))
        if confidence is not None:
            metadata["asr_confidence"] = round(confidence, 3)
        collector = VoiceOutput()
        await self.on_new_message(
            UserMessage(text, collector, self.call.sender_id, input_channel=CHANNEL, metadata=metadata)
        )
        if input_mode != "call":
            self.call.no_input = self.call.no_match = 0
        reply: VoiceReply = voice_reply(collector.messages, self.channel.adviser_line)
        self.call.menu = reply.menu
        if reply.prompt:
            self.call.last_prompt = reply.prompt
        if any(action["type"] == "hangup" for action in reply.actions):
            self.end("completed")
        return reply.actions

    async def words(self, response_name: str) -> str:
        """A response of the domain (channel `ivr` variant when there is one)."""
        agent = self.request.app.ctx.agent
        tracker = DialogueStateTracker(self.call.sender_id, agent.domain.slots)
        generated = await agent.nlg.generate(response_name, tracker, CHANNEL)
        return (generated or {}).get("text") or ""

    def end(self, reason: str) -> None:
        self.call.ended, self.call.end_reason = True, reason


def e164(number: Optional[str]) -> Optional[str]:
    """The caller's number in E.164 (French numbers may come without +33); None if not a number.

    A number of the right length for its country is taken even when phonenumbers does not
    know its range (new or rare ranges, overseas operators): a customer's line is theirs
    because the insurer has it on file, which the policy service checks."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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
