"""The telephone line's call core, whatever protocol the voice gateway speaks.

A gateway adapter (connectors/ivr.py: our own JSON protocol; connectors/audiocodes.py:
AudioCodes VoiceAI Connect) checks who posts and parses its wire format into a CallEvent
(connectors.ivr_events); the core answers it with voice actions (connectors.ivr_actions:
say / listen / transfer / hangup), which the adapter writes back in its format. The core:
- answers each event id once: a replayed event gets the stored reply (connectors.ivr_calls),
  a retry of an event still being answered waits for it or is told to retry;
- hands what the caller said or pressed to the assistant through the channel pipeline
  (connectors.pipeline): rate-limited per call (beyond, the wait is said, then the last
  question again), and the domain's apology spoken when the action server fails;
- picks the most confident transcription, re-prompts below `min_confidence` without
  calling the NLU, normalises spoken numbers (core.parsing.spoken_numbers) before it;
- maps keypad digits to the buttons on offer;
- counts silences and unrecognised turns in a row: after `max_failures`, the caller is
  offered an adviser (the assistant's hand-off: a transfer in office hours), or the call ends;
- sends the caller's number, E.164, as metadata `channel_phone` with every message
  (identification by the phone on file plus the date of birth), signed for this call
  (`channel_phone_assertion`, core/channel_assertion.py: the policy service identifies
  without a code only on it), and as the message's source
  (connectors.guard.CLIENT_SOURCE: `ivr:<number>`, `ivr:hidden` for a hidden one).

Whatever the protocol, a call is on the telephone line: its messages' input channel and
the responses' variant are `ivr`, its conversation `ivr:<namespace><call id>`
(connectors.guard.conversation_id; the namespace keeps protocols' ids apart).
"""

import asyncio
import logging
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Text

import phonenumbers
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.guard import HIDDEN_CALLER, conversation_id, screen_text
from connectors.ivr_actions import CHANNEL, VoiceReply, hangup, listen, say, voice_reply
from connectors.ivr_calls import Call, CallStore
from connectors.ivr_events import CallEvent
from connectors.pipeline import ChannelPipeline
from core import channel_assertion
from core.metrics import PHONE_EVENTS, bounded
from core.parsing.spoken_numbers import normalise_spoken_numbers

logger = logging.getLogger(__name__)

# Connector-made messages (never typed nor said by the caller).
CALL_STARTED = "/greet"
WANTS_ADVISER = "/request_human"
# Words of the telephone line itself, in the domain (domain/phone.yml).
NO_INPUT_RESPONSE = "utter_ivr_no_input"
NO_MATCH_RESPONSE = "utter_ivr_no_match"
TRANSFER_FAILED_RESPONSE = "utter_ivr_transfer_failed"
LOCK_STRIPES = 64
RETRY_POLL_SECONDS = 0.2

Actions = List[Dict[str, Any]]


class VoiceOutput(CollectingOutputChannel):
    """Collects the assistant's messages; named `ivr` so that `channel: ivr` variants apply."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL


@dataclass(frozen=True)
class Outcome:
    """The answer to an event: `reply` (the adapter's rendering of the actions, as stored and
    replayed), or a refusal (`status`, `code`, `message`, `headers`) when nothing was done."""

    reply: Optional[Dict[str, Any]] = None
    status: int = 200
    code: str = ""
    message: str = ""
    headers: Dict[str, str] = field(default_factory=dict)


def _refused(status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None) -> Outcome:
    return Outcome(status=status, code=code, message=message, headers=headers or {})


class CallCore:
    """The calls of one gateway protocol. `namespace` prefixes its call and event ids in the
    store and its conversations ("" for our own protocol), so two protocols' ids never meet."""

    def __init__(self, store: CallStore, adviser_line: str, min_confidence: float = 0.5, max_failures: int = 2,
                 phone_assertion_secret: str = "", namespace: str = "") -> None:
        self.store = store
        self.adviser_line = adviser_line
        self.min_confidence = min_confidence
        self.max_failures = max_failures
        self.phone_assertion_secret = phone_assertion_secret
        self.namespace = namespace
        # Events of one call are handled one at a time (a gateway waits for each reply).
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

    async def answer(self, event: CallEvent, digest: str, agent: Any, pipeline: ChannelPipeline,
                     render: Callable[[Actions], Dict[str, Any]], retry_wait_seconds: float = 0.0) -> Outcome:
        """Answers `event` once (`digest`: of its body, tells a replay from another event
        reusing the id): `render` turns the actions into the reply stored and returned.
        A retry arriving while the event is still being answered elsewhere waits up to
        `retry_wait_seconds` for its reply, then gets 409 `event_in_progress`."""
        lock = self._locks[zlib.crc32(event.call_id.encode()) % LOCK_STRIPES]
        async with lock:
            outcome = await self._answer(event, digest, agent, pipeline, render)
        waited = 0.0
        while outcome.code == "event_in_progress" and waited < retry_wait_seconds:
            await asyncio.sleep(RETRY_POLL_SECONDS)
            waited += RETRY_POLL_SECONDS
            stored = await self.store.find_event(self._key(event.event_id))
            if stored is None or stored.reply is not None:  # answered, or released: try again
                async with lock:
                    outcome = await self._answer(event, digest, agent, pipeline, render)
        PHONE_EVENTS.labels(bounded(event.type), bounded(outcome.code) if outcome.code else "answered").inc()
        return outcome

    async def call(self, call_id: str) -> Optional[Call]:
        return await self.store.get_call(self._key(call_id))

    async def end_call(self, call_id: str, reason: str) -> bool:
        """Ends a call outside any event (the gateway closed the conversation); False if unknown."""
        lock = self._locks[zlib.crc32(call_id.encode()) % LOCK_STRIPES]
        async with lock:
            call = await self.store.get_call(self._key(call_id))
            if call is None:
                return False
            if not call.ended:
                call.ended, call.end_reason = True, reason
                await self.store.save_call(call)
        return True

    def _key(self, identifier: str) -> str:
        return f"{self.namespace}{identifier}"

    async def _answer(self, event: CallEvent, digest: str, agent: Any, pipeline: ChannelPipeline,
                      render: Callable[[Actions], Dict[str, Any]]) -> Outcome:
        event_key, call_key = self._key(event.event_id), self._key(event.call_id)
        stored = await self.store.find_event(event_key)
        if stored is not None:
            if stored.body_digest != digest:
                return _refused(409, "event_id_reused", "Cet identifiant d'événement a déjà servi pour un autre événement.")
            if stored.reply is None:
                return _refused(409, "event_in_progress", "Cet événement est en cours de traitement.",
                                headers={"Retry-After": "1"})
            return Outcome(reply=stored.reply)

        call = await self.store.get_call(call_key)
        if event.type == "start" and call is not None:
            return _refused(409, "call_already_started", "Cet appel a déjà commencé.")
        if event.type != "start" and call is None:
            return _refused(404, "unknown_call", "Appel inconnu : il commence par un événement « start ».")
        if call is not None and call.ended and event.type != "hangup":
            return _refused(409, "call_ended", "Cet appel est terminé.")
        if not await self.store.claim_event(event_key, call_key, digest):
            return _refused(409, "event_in_progress", "Cet événement est en cours de traitement.",
                            headers={"Retry-After": "1"})

        if call is None:
            await self.store.purge()
            call = Call(call_id=call_key, sender_id=conversation_id(CHANNEL, call_key),
                        caller=e164(event.caller), started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        turn = _Turn(self, call, agent, pipeline)
        try:
            actions = await turn.handle(event)
        except Exception:
            logger.exception("event %s of call %s not processed", event.type, call_key)
            await self.store.release_event(event_key)
            return _refused(503, "unavailable", "L'assistant ne peut pas répondre pour le moment ; renvoyez l'événement.")
        reply = render(actions)
        await self.store.finish_event(event_key, reply, call)
        logger.info("call %s: %s answered with %s", call_key, event.type, [a["type"] for a in actions])
        return Outcome(reply=reply)


class _Turn:
    """What one event does to its call (the call's state is updated in place)."""

    def __init__(self, core: CallCore, call: Call, agent: Any, pipeline: ChannelPipeline) -> None:
        self.core, self.call, self.agent, self.pipeline = core, call, agent, pipeline
        self.refused = False  # the last message to the assistant was refused by the pipeline

    async def handle(self, event: CallEvent) -> Actions:
        if event.type == "start":
            return await self.tell_assistant(CALL_STARTED, "call", composed=True)
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

    async def utterance(self, event: CallEvent) -> Actions:
        if not event.final:
            return []  # partial transcriptions are not answered
        best = max(event.alternatives, key=lambda alternative: alternative.confidence)
        screened = screen_text(best.transcript)
        if screened.refusal or best.confidence < self.core.min_confidence:
            return await self.failed("no_match")
        text = normalise_spoken_numbers(screened.text)
        return await self.tell_assistant(text, "speech", confidence=best.confidence)

    async def dtmf(self, digits: str) -> Actions:
        if digits == "*":  # the caller asks to hear the question again
            return list(self.call.last_prompt) or await self.failed("no_match")
        pressed = digits.rstrip("#")
        if not pressed.strip("*"):
            return await self.failed("no_match")
        if pressed in self.call.menu:  # the payload of the button the key stands for
            return await self.tell_assistant(self.call.menu[pressed], "dtmf", composed=True)
        return await self.tell_assistant(pressed, "dtmf")

    async def failed(self, kind: str) -> Actions:
        """A silence or an unrecognised turn: re-prompt, or an adviser after `max_failures` in a row."""
        count = (self.call.no_input if kind == "no_input" else self.call.no_match) + 1
        self.call.no_input, self.call.no_match = (count, 0) if kind == "no_input" else (0, count)
        if count >= self.core.max_failures:
            reply = await self.tell_assistant(WANTS_ADVISER, "call", composed=True)
            # No adviser to take the call: it ends (unless the message was refused: the caller waits).
            if reply and reply[-1]["type"] == "listen" and not self.refused:
                reply[-1] = hangup("no_adviser")
                self.end("no_adviser")
            return reply
        response_name = NO_INPUT_RESPONSE if kind == "no_input" else NO_MATCH_RESPONSE
        return [say(await self.words(response_name)), *(self.call.last_prompt or [listen()])]

    async def transfer_status(self, status: str) -> Actions:
        if status == "completed":
            self.end("transferred")
            return []
        # No adviser took the call: the caller is told so and may go on with the assistant.
        self.call.no_input = self.call.no_match = 0
        self.call.menu = {}
        return [say(await self.words(TRANSFER_FAILED_RESPONSE)), listen()]

    async def tell_assistant(self, text: str, input_mode: str, confidence: Optional[float] = None,
                             composed: bool = False) -> Actions:
        """Sends `text` to the assistant as the caller's message, through the channel pipeline
        (`composed`: written by the channel, not said); its answer as voice actions. A message
        refused (too many in too little time) is answered with the refusal, then the last
        question again."""
        metadata: Dict[str, Any] = {"call_id": self.call.call_id, "input_mode": input_mode}
        if self.call.caller:
            metadata["channel_phone"] = self.call.caller
            if self.core.phone_assertion_secret:
                metadata[channel_assertion.METADATA_KEY] = channel_assertion.issue(
                    self.core.phone_assertion_secret, self.call.caller, CHANNEL, self.call.sender_id,
                    datetime.now(timezone.utc))
        if confidence is not None:
            metadata["asr_confidence"] = round(confidence, 3)
        collector = VoiceOutput()
        refusal = await self.pipeline.receive(
            self.agent, await self.pipeline.arrive(self.call.sender_id), collector, text,
            f"{CHANNEL}:{self.call.caller or HIDDEN_CALLER}", channel_metadata=metadata, composed=composed)
        self.refused = refusal is not None
        if refusal is not None:
            return [say(self.pipeline.words(self.agent, refusal)), *(self.call.last_prompt or [listen()])]
        if input_mode != "call":
            self.call.no_input = self.call.no_match = 0
        reply: VoiceReply = voice_reply(collector.messages, self.core.adviser_line, self.agent)
        self.call.menu = reply.menu
        if reply.prompt:
            self.call.last_prompt = reply.prompt
        if any(action["type"] == "hangup" for action in reply.actions):
            self.end("completed")
        return reply.actions

    async def words(self, response_name: str) -> str:
        """A response of the domain (channel `ivr` variant when there is one)."""
        tracker = DialogueStateTracker(self.call.sender_id, self.agent.domain.slots)
        generated = await self.agent.nlg.generate(response_name, tracker, CHANNEL)
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
