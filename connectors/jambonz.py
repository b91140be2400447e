"""The telephone line on jambonz, webhook mode (docs.jambonz.org: webhooks, verbs).

    POST /webhooks/jambonz/call                 the application's call webhook (a new call)
    POST /webhooks/jambonz/status               the application's call status webhook
    POST /webhooks/jambonz/action/<call sid>    the action hooks our verbs name

jambonz posts the call's JSON (call_sid, from, to, direction, …) and runs the array of
verbs we answer (200, application/json): `say` (SSML, fr-FR), `gather` (speech and keypad,
a French recognizer with the buttons' titles as hints) whose actionHook brings what the
caller said or pressed, `dial` to the advisers' line with the hand-off reference only in a
SIP header (X-Oyat-Handoff), `hangup`. The call itself is the shared call core's
(connectors.call_core): confidence gate, spoken numbers, keypad menus, silences, transfer,
identification by the caller's number (`from`, normalised to E.164) and birth date.

Every request is signed as jambonz signs it (jambonz-node's verifyJambonzSignature):
`Jambonz-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the
account's webhook secret, JAMBONZ_WEBHOOK_SECRET; none: 401; wrong or older than 300 s:
403; no secret configured: every request is refused.

Each action hook's URL carries its turn (`?turn=N`): a turn is answered once, a retry of
the same hook (jambonz retries on `#rc=…`) gets the stored answer. jambonz waits 10 s for
an answer (JAMBONES_HTTP_TIMEOUT): when the assistant takes longer than
`answer_within_seconds`, a short filler is said and a `redirect` brings jambonz back to
the same turn (`on=wait`), answered from the call store as soon as the assistant's answer
is there (any replica can serve it).
"""

import asyncio
import hashlib
import hmac
import logging
import re
import time
from typing import Any, Dict, List, Optional, Set, Text, Tuple
from urllib.parse import urlencode

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.call_core import Actions, CallCore, e164
from connectors.guard import MAX_MESSAGE_LENGTH, UnreadableJson, read_json
from connectors.ivr_actions import CHANNEL, HANDOFF_SIP_HEADER, MAX_DIGITS_WITHOUT_MENU, listen, say
from connectors.ivr_calls import CallStore
from connectors.ivr_events import Alternative, CallEvent
from connectors.pipeline import ChannelPipeline, PipelineChannel, response_words
from core import channel_assertion
from core.settings import read

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Jambonz-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 128 * 1024
MAX_ALTERNATIVES = 10
MAX_WAITS = 5  # fillers in a row before the caller is asked again
LANGUAGE = "fr-FR"
# The application's own speech vendors, in French (`default`: as configured in jambonz).
SYNTHESIZER = {"vendor": "default", "language": LANGUAGE}
# The words said while the assistant is still working (domain/phone.yml).
PLEASE_WAIT_RESPONSE = "utter_ivr_please_wait"
NO_MATCH_RESPONSE = "utter_ivr_no_match"
# A call that is over for jambonz ends for the assistant (the call status webhook).
FINAL_STATUSES = ("completed", "failed", "busy", "no-answer")
# dial's dial_call_status → the core's transfer outcome.
TRANSFER_OUTCOMES = {"completed": "completed", "busy": "busy", "no-answer": "no_answer"}
HOOKS = ("gather", "dial", "wait")

_CALL_SID = re.compile(r"[A-Za-z0-9._-]{1,80}")
_TURN = re.compile(r"[0-9]{1,4}")
_DIGITS = re.compile(r"[0-9*#]{1,32}")
_HEX = re.compile(r"[0-9a-f]{64}")
# A number with its country code but no "+", as some carriers send it (336…, 4477…).
_INTERNATIONAL_WITHOUT_PLUS = re.compile(r"[1-9][0-9]{10,14}")


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def sign(raw_body: bytes, secret: str, timestamp: int) -> str:
    """The Jambonz-Signature header of `raw_body`, as jambonz computes it."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(header: Optional[str], raw_body: bytes, secret: str, now: int) -> None:
    """Raises Refused unless `header` signs `raw_body` with `secret` (any of its v1 values,
    as jambonz-node accepts), less than 300 s ago."""
    if not header:
        raise Refused(401, "signature_required")
    timestamp, offered = None, []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and _HEX.fullmatch(value):
            offered.append(value)
    if not secret or timestamp is None or not offered:
        raise Refused(403, "bad_signature")
    expected = sign(raw_body, secret, timestamp).rsplit("=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise Refused(403, "bad_signature")
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        raise Refused(403, "signature_expired")


def caller_number(raw: Any) -> Optional[str]:
    """The caller's `from` in E.164, from the forms carriers use (+33612345678, 0612345678,
    33612345678, 0033612345678); None for a hidden or unreadable one (« anonymous »)."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    number = raw.strip()
    if _INTERNATIONAL_WITHOUT_PLUS.fullmatch(number):
        number = "+" + number
    return e164(number)


class Invalid(Exception):
    """A signed request that is no valid jambonz webhook (422)."""


def _alternatives(speech: Any, low_confidence: bool) -> Tuple[Alternative, ...]:
    """speech.alternatives (or speech.transcripts[0].alternatives, as newer jambonz sends them)."""
    if not isinstance(speech, dict):
        raise Invalid("speech")
    raw = speech.get("alternatives")
    if raw is None and isinstance(speech.get("transcripts"), list) and speech["transcripts"]:
        first = speech["transcripts"][0]
        raw = first.get("alternatives") if isinstance(first, dict) else None
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ALTERNATIVES:
        raise Invalid("speech.alternatives")
    alternatives = []
    for item in raw:
        transcript = item.get("transcript") if isinstance(item, dict) else None
        confidence = item.get("confidence", 1) if isinstance(item, dict) else None
        if not isinstance(transcript, str) or len(transcript) > MAX_MESSAGE_LENGTH:
            raise Invalid("speech.alternatives.transcript")
        # Some recognisers give no confidence: their transcript is taken as it is.
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
            raise Invalid("speech.alternatives.confidence")
        # jambonz found it below the recognizer's minConfidence: never acted on.
        alternatives.append(Alternative(transcript, 0.0 if low_confidence else float(confidence)))
    return tuple(alternatives)


def hook_event(body: Dict[str, Any], call_sid: str, turn: int, hook: str) -> CallEvent:
    """The core's event for an action hook's payload (gather's or dial's)."""
    event_id = f"{call_sid}:{turn}"
    if hook == "dial":
        status = body.get("dial_call_status")
        return CallEvent(event_id, call_sid, "transfer_status",
                         transfer_status=TRANSFER_OUTCOMES.get(status, "failed"))
    reason = body.get("reason")
    if reason == "speechDetected":
        return CallEvent(event_id, call_sid, "utterance", alternatives=_alternatives(body.get("speech"), False))
    if reason == "stt-low-confidence":
        speech = body.get("speech")
        alternatives = _alternatives(speech, True) if speech is not None else (Alternative("", 0.0),)
        return CallEvent(event_id, call_sid, "utterance", alternatives=alternatives)
    if reason == "dtmfDetected":
        digits = body.get("digits")
        if not isinstance(digits, str) or not _DIGITS.fullmatch(digits):
            raise Invalid("digits")
        return CallEvent(event_id, call_sid, "dtmf", digits=digits)
    if reason == "timeout":
        return CallEvent(event_id, call_sid, "no_input")
    if reason == "error":  # the recogniser failed: as speech not understood
        return CallEvent(event_id, call_sid, "utterance", alternatives=(Alternative("", 0.0),))
    raise Invalid("reason")


class JambonzInput(PipelineChannel):
    """Rasa input channel of jambonz; its calls are on the telephone line (`ivr`)."""

    shortcuts = False
    pipeline_channel = CHANNEL

    @classmethod
    def name(cls) -> Text:
        return "jambonz"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            secret=read("JAMBONZ_WEBHOOK_SECRET"),
            store=CallStore(read("IVR_DATABASE_URL")),
            adviser_line=str(credentials.get("adviser_line", "+33825071122")),
            min_confidence=float(credentials.get("min_confidence", 0.5)),
            max_failures=int(credentials.get("max_failures", 2)),
            phone_assertion_secret=read(channel_assertion.SECRET_VARIABLE),
            answer_within_seconds=float(credentials.get("answer_within_seconds", 7)),
            hook_prefix=str(credentials.get("hook_prefix", "/webhooks/jambonz")),
        )

    def __init__(self, secret: str, store: CallStore, adviser_line: str, min_confidence: float = 0.5,
                 max_failures: int = 2, phone_assertion_secret: str = "", answer_within_seconds: float = 7,
                 hook_prefix: str = "/webhooks/jambonz") -> None:
        if not secret:
            logger.warning("JAMBONZ_WEBHOOK_SECRET is not set: the jambonz line refuses every request")
        self.secret = secret
        self.core = CallCore(store, adviser_line, min_confidence, max_failures, phone_assertion_secret,
                             namespace="jambonz/")  # "/": never in our own protocol's call ids
        self.min_confidence = min_confidence
        self.answer_within_seconds = answer_within_seconds
        self.hook_prefix = hook_prefix.rstrip("/")
        self._working: Set[asyncio.Task] = set()  # answers still being worked on after a filler

    def routes(self, pipeline: ChannelPipeline) -> Blueprint:
        webhook = Blueprint("oyat_jambonz_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/call", methods=["POST"])
        async def call(request: Request) -> HTTPResponse:
            body, refused = self._signed_body(request)
            if refused is not None:
                return refused
            call_sid = body.get("call_sid")
            if not isinstance(call_sid, str) or not _CALL_SID.fullmatch(call_sid):
                return _error(422, "call_sid")
            event = CallEvent(f"{call_sid}:0", call_sid, "start", caller=caller_number(body.get("from")))
            return await self._answer(event, request, pipeline, turn=0)

        @webhook.route("/action/<call_sid>", methods=["POST"])
        async def action(request: Request, call_sid: str) -> HTTPResponse:
            body, refused = self._signed_body(request)
            if refused is not None:
                return refused
            turn, hook = request.args.get("turn", ""), request.args.get("on", "gather")
            if not _CALL_SID.fullmatch(call_sid) or body.get("call_sid") != call_sid:
                return _error(422, "call_sid")
            if not _TURN.fullmatch(turn) or hook not in HOOKS:
                return _error(422, "hook")
            if hook == "wait":
                wait = request.args.get("wait", "1")
                return await self._resume(request, call_sid, int(turn), int(wait) if _TURN.fullmatch(wait) else 1)
            try:
                event = hook_event(body, call_sid, int(turn), hook)
            except Invalid as invalid:
                return _error(422, str(invalid))
            return await self._answer(event, request, pipeline, turn=int(turn))

        @webhook.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            body, refused = self._signed_body(request)
            if refused is not None:
                return refused
            call_sid = body.get("call_sid")
            if not isinstance(call_sid, str) or not _CALL_SID.fullmatch(call_sid):
                return _error(422, "call_sid")
            if body.get("call_status") in FINAL_STATUSES:
                await self.core.end_call(call_sid, "hangup")
            return response.empty()

        return webhook

    def _signed_body(self, request: Request) -> Tuple[Dict[str, Any], Optional[HTTPResponse]]:
        raw = request.body or b""
        if len(raw) > MAX_BODY_BYTES:
            return {}, _error(413, "payload_too_large")
        try:
            verify(request.headers.get(SIGNATURE_HEADER), raw, self.secret, int(time.time()))
        except Refused as refused:
            return {}, response.json({"error": refused.message}, status=refused.status)
        try:
            body = read_json(raw)
        except UnreadableJson:
            body = None
        if not isinstance(body, dict):
            return {}, _error(400, "body")
        return body, None

    # --- answers, in time -------------------------------------------------------

    async def _answer(self, event: CallEvent, request: Request, pipeline: ChannelPipeline,
                      turn: int) -> HTTPResponse:
        digest = hashlib.sha256((request.body or b"")).hexdigest()
        agent = request.app.ctx.agent
        work = asyncio.ensure_future(self.core.answer(
            event, digest, agent, pipeline, lambda actions: {"verbs": self.verbs(event.call_id, turn, actions)},
            retry_wait_seconds=self.answer_within_seconds))
        done, _ = await asyncio.wait({work}, timeout=self.answer_within_seconds)
        if not done:
            # Still working: the caller hears a filler, jambonz comes back for the answer.
            self._working.add(work)
            work.add_done_callback(self._working.discard)
            return self._filler(agent, event.call_id, turn, 1)
        outcome = work.result()
        if outcome.reply is not None:
            return response.json(outcome.reply["verbs"])
        if outcome.code == "event_in_progress":  # a retry while the first is being answered
            return self._filler(agent, event.call_id, turn, 1)
        if outcome.code == "call_ended":
            return response.json([{"verb": "hangup"}])
        if outcome.code == "unavailable" and event.type != "start":  # nothing done: asked again
            return await self._resume(request, event.call_id, turn, MAX_WAITS)
        return response.json({"error": outcome.code}, status=outcome.status, headers=outcome.headers)

    async def _resume(self, request: Request, call_sid: str, turn: int, wait: int) -> HTTPResponse:
        """jambonz back after a filler: the turn's answer once stored, or another filler."""
        agent = request.app.ctx.agent
        key = f"{self.core.namespace}{call_sid}:{turn}"
        deadline = time.monotonic() + self.answer_within_seconds
        while True:
            stored = await self.core.store.find_event(key)
            if stored is not None and stored.reply is not None:
                return response.json(stored.reply["verbs"])
            if stored is None or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.2)
        if stored is not None and wait < MAX_WAITS:  # still working (a new call is stored once greeted)
            return self._filler(agent, call_sid, turn, wait + 1)
        call = await self.core.call(call_sid)
        if call is None or call.ended:
            return response.json([{"verb": "hangup"}])
        # The turn could not be answered: the caller is asked again.
        again = [say(response_words(agent, NO_MATCH_RESPONSE, CHANNEL)), *(call.last_prompt or [listen()])]
        return response.json(self.verbs(call_sid, turn, again))

    def _filler(self, agent: Any, call_sid: str, turn: int, wait: int) -> HTTPResponse:
        return response.json([
            self._say(say(response_words(agent, PLEASE_WAIT_RESPONSE, CHANNEL))),
            {"verb": "redirect", "actionHook": self.hook(call_sid, turn, "wait", wait=wait)},
        ])

    # --- voice actions → jambonz verbs --------------------------------------------

    def hook(self, call_sid: str, turn: int, on: str, **more: Any) -> str:
        return f"{self.hook_prefix}/action/{call_sid}?" + urlencode({"turn": turn, "on": on, **more})

    def verbs(self, call_sid: str, turn: int, actions: Actions) -> List[Dict[str, Any]]:
        """The verbs of the core's actions; the next hook is turn + 1. A reply that neither
        listens nor transfers ends with a hangup (jambonz would hang up anyway)."""
        verbs: List[Dict[str, Any]] = []
        for action in actions:
            if action["type"] == "say":
                verbs.append(self._say(action))
            elif action["type"] == "listen":
                # The last thing said is the gather's prompt: the caller may cut it short.
                prompt = verbs.pop() if verbs and verbs[-1]["verb"] == "say" else None
                verbs.append(self._gather(call_sid, turn + 1, action, prompt))
            elif action["type"] == "transfer":
                dial: Dict[str, Any] = {
                    "verb": "dial", "target": [{"type": "phone", "number": action["target"]}],
                    "actionHook": self.hook(call_sid, turn + 1, "dial"), "answerOnBridge": True, "timeout": 30,
                }
                if action.get("sip_headers"):
                    dial["headers"] = {HANDOFF_SIP_HEADER: action["sip_headers"][HANDOFF_SIP_HEADER]}
                verbs.append(dial)
            elif action["type"] == "hangup":
                verbs.append({"verb": "hangup"})
        if not verbs or verbs[-1]["verb"] not in ("gather", "dial", "hangup"):
            verbs.append({"verb": "hangup"})
        return verbs

    @staticmethod
    def _say(action: Dict[str, Any]) -> Dict[str, Any]:
        # jambonz takes a text starting with « <speak> » as SSML; the language is the synthesizer's.
        ssml = re.sub(r"^<speak[^>]*>", "<speak>", action.get("ssml") or "")
        return {"verb": "say", "text": ssml or action["text"], "synthesizer": dict(SYNTHESIZER)}

    def _gather(self, call_sid: str, turn: int, action: Dict[str, Any],
                prompt: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        recognizer: Dict[str, Any] = {"vendor": "default", "language": LANGUAGE, "minConfidence": self.min_confidence}
        if action.get("hints"):
            recognizer["hints"] = list(action["hints"])
        gather: Dict[str, Any] = {
            "verb": "gather", "actionHook": self.hook(call_sid, turn, "gather"),
            "input": ["speech", "digits"], "timeout": action.get("timeout_seconds", 8),
            "bargein": True, "dtmfBargein": True, "recognizer": recognizer,
        }
        max_digits = action.get("dtmf", {}).get("max_digits", MAX_DIGITS_WITHOUT_MENU)
        if max_digits < MAX_DIGITS_WITHOUT_MENU:  # a keypad menu: its choice is complete at once
            gather["numDigits"] = max_digits
        else:
            gather.update({"maxDigits": max_digits, "finishOnKey": "#", "interDigitTimeout": 5})
        if prompt is not None:
            gather["say"] = {key: value for key, value in prompt.items() if key != "verb"}
        return gather


def _error(status: int, what: str) -> HTTPResponse:
    return response.json({"error": what}, status=status)
