"""The telephone line on AudioCodes VoiceAI Connect: the AC Bot API, HTTP mode.

VoiceAI Connect is configured with the bot URL `https://<host>/webhooks/audiocodes/webhook`
and the token AUDIOCODES_TOKEN (docs/ivr-api.md, « AudioCodes VoiceAI Connect »):

    POST /webhooks/audiocodes/webhook                      {"conversation": id, …}: a call begins;
         answered {activitiesURL, refreshURL, disconnectURL, expiresSeconds}, URLs relative
         to the bot URL: `conversation/<id>/activities|refresh|disconnect`
    POST /webhooks/audiocodes/conversation/<id>/activities {"conversation", "activities": […]}
         answered {"activities": […]}: the bot's messages, transfer, hangup
    POST /webhooks/audiocodes/conversation/<id>/refresh    answered {"expiresSeconds"}
    POST /webhooks/audiocodes/conversation/<id>/disconnect {"reason", "reasonCode"}: the call ended

Every request carries `Authorization: Bearer <AUDIOCODES_TOKEN>` (compared in constant time:
401 without it, 403 wrong; no token configured: everything refused).

Activities in → call events of the call core (connectors.call_core): the `start` event (its
`parameters.caller`: the caller's number, signed for identification as on every gateway),
`message` (text, `parameters.confidence`), `DTMF` (value: the digits; the bot asks for digit
collection ended by « # », single keys work too), `noUserInput`, `transferStatus`
(value.status answered / failed, value.reasonCode). Each activity id is answered once: a
replayed activity gets the activities first given (connectors.ivr_calls).

Deadline: VoiceAI Connect waits a few seconds for the answer; when the assistant is slower
than `filler_after_seconds`, a short filler message (utter_ivr_please_wait) is answered and
the assistant's answer is given with the answer to the next request of the conversation
(a silence VoiceAI Connect reports meanwhile is not counted as the caller's).
"""

import asyncio
import hashlib
import hmac
import logging
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.call_core import CallCore
from connectors.guard import MAX_MESSAGE_LENGTH, UnreadableJson, read_json
from connectors.ivr_actions import CHANNEL, HANDOFF_SIP_HEADER, MAX_DIGITS_WITHOUT_MENU
from connectors.ivr_calls import CallStore
from connectors.ivr_events import Alternative, CallEvent
from connectors.pipeline import ChannelPipeline, PipelineChannel, response_words
from core import channel_assertion
from core.settings import read

logger = logging.getLogger(__name__)

NAME = "audiocodes"
NAMESPACE = "audiocodes/"  # `/` never appears in our own protocol's call ids
MAX_BODY_BYTES = 64 * 1024
MAX_ACTIVITIES = 20
EXPIRES_SECONDS = 120
FILLER_AFTER_SECONDS = 5.0
FILLER_RESPONSE = "utter_ivr_please_wait"
# VoiceAI Connect's transfer outcomes (transferStatus value.reasonCode) → the call core's.
TRANSFER_FAILURES = {"busy": "busy", "no-answer": "no_answer"}
# The gateway collects the digits the caller types until « # » and sends them as one DTMF event.
DTMF_SETTINGS = {"sendDTMF": True, "dtmfCollect": True, "dtmfCollectSubmitDigit": "#"}

_IDENTIFIER = re.compile(r"[A-Za-z0-9._:-]{1,90}")
_DIGITS = re.compile(r"[0-9*#]{1,32}")


class Problem(Exception):
    """A request answered with an error and nothing done."""

    def __init__(self, status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class AudiocodesInput(PipelineChannel):
    """Rasa input channel of AudioCodes VoiceAI Connect; its calls are the telephone line's
    (input channel `ivr`: identification without a code, documents e-mailed, the phone's words)."""

    shortcuts = False
    pipeline_channel = CHANNEL

    @classmethod
    def name(cls) -> Text:
        return NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "AudiocodesInput":
        credentials = credentials or {}
        return cls(
            token=read("AUDIOCODES_TOKEN"),
            store=CallStore(read("IVR_DATABASE_URL")),
            adviser_line=str(credentials.get("adviser_line", "+33825071122")),
            min_confidence=float(credentials.get("min_confidence", 0.5)),
            max_failures=int(credentials.get("max_failures", 2)),
            filler_after_seconds=float(credentials.get("filler_after_seconds", FILLER_AFTER_SECONDS)),
            phone_assertion_secret=read(channel_assertion.SECRET_VARIABLE),
        )

    def __init__(self, token: str, store: CallStore, adviser_line: str, min_confidence: float = 0.5,
                 max_failures: int = 2, filler_after_seconds: float = FILLER_AFTER_SECONDS,
                 phone_assertion_secret: str = "") -> None:
        if not token:
            logger.warning("AUDIOCODES_TOKEN is not set: the AudioCodes line refuses every request")
        self.token = token
        self.store = store
        self.filler_after_seconds = filler_after_seconds
        self.core = CallCore(store, adviser_line, min_confidence, max_failures, phone_assertion_secret,
                             namespace=NAMESPACE)
        # Answers still being prepared after a filler was said, by conversation (this replica's).
        self._pending: Dict[str, asyncio.Task] = {}

    def routes(self, pipeline: ChannelPipeline) -> Blueprint:
        webhook = Blueprint("oyat_audiocodes_webhook", __name__)

        @webhook.route("/webhook", methods=["POST"])
        async def create(request: Request) -> HTTPResponse:
            try:
                body = self._checked(request)
                conversation = _identifier(body.get("conversation"), "conversation")
                call = await self.core.call(conversation)
                if call is not None:
                    raise Problem(409, "conversation_exists", "Cette conversation existe déjà.")
            except Problem as problem:
                return _error(problem)
            base = f"conversation/{conversation}"
            return response.json({
                "activitiesURL": f"{base}/activities",
                "refreshURL": f"{base}/refresh",
                "disconnectURL": f"{base}/disconnect",
                "expiresSeconds": EXPIRES_SECONDS,
            })

        @webhook.route("/conversation/<conversation>/activities", methods=["POST"])
        async def activities(request: Request, conversation: str) -> HTTPResponse:
            try:
                body = self._checked(request, conversation)
                events = [event for event in (_event(conversation, activity) for activity in _activities(body))
                          if event is not None]
                answered = await self._answer_in_time(conversation, events, request.app.ctx.agent, pipeline)
            except Problem as problem:
                return _error(problem)
            return response.json({"activities": answered})

        @webhook.route("/conversation/<conversation>/refresh", methods=["POST"])
        async def refresh(request: Request, conversation: str) -> HTTPResponse:
            try:
                self._checked(request, conversation)
                call = await self.core.call(conversation)
                if call is not None and call.ended:
                    raise Problem(410, "call_ended", "Cet appel est terminé.")
            except Problem as problem:
                return _error(problem)
            return response.json({"expiresSeconds": EXPIRES_SECONDS})

        @webhook.route("/conversation/<conversation>/disconnect", methods=["POST"])
        async def disconnect(request: Request, conversation: str) -> HTTPResponse:
            try:
                body = self._checked(request, conversation)
            except Problem as problem:
                return _error(problem)
            reason = body.get("reasonCode") or body.get("reason")
            reason = reason[:40] if isinstance(reason, str) else "disconnected"
            # An answer still being worked on is let finish (the call's state stays whole), then dropped.
            self._pending.pop(conversation, None)
            await self.core.end_call(conversation, f"disconnect:{reason}")
            logger.info("AudioCodes conversation %s disconnected (%s)", conversation, reason)
            return response.json({})

        return webhook

    # --- requests ----------------------------------------------------------------------

    def _checked(self, request: Request, conversation: Optional[str] = None) -> Dict[str, Any]:
        """The request's JSON body once its token is checked (and its conversation, when in the URL)."""
        authorization = request.headers.get("Authorization") or ""
        if not authorization.startswith("Bearer "):
            raise Problem(401, "unauthorized", "Jeton d'accès requis.", {"WWW-Authenticate": "Bearer"})
        offered = authorization[len("Bearer "):].strip()
        if not self.token or not hmac.compare_digest(offered.encode(), self.token.encode()):
            raise Problem(403, "forbidden", "Jeton d'accès refusé.")
        raw = request.body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise Problem(413, "payload_too_large", "Requête trop volumineuse.")
        try:
            body = read_json(raw)
        except UnreadableJson:
            body = None
        if not isinstance(body, dict):
            raise Problem(400, "bad_request", "Le corps de la requête doit être un objet JSON.")
        if conversation is not None:
            _identifier(conversation, "conversation")
            if body.get("conversation", conversation) != conversation:
                raise Problem(400, "bad_request", "La conversation du corps n'est pas celle de l'adresse.")
        return body

    async def _answer_in_time(self, conversation: str, events: List[CallEvent], agent: Any,
                              pipeline: ChannelPipeline) -> List[Dict[str, Any]]:
        """The activities answering `events`; a filler when the assistant takes longer than
        `filler_after_seconds` (its answer then comes with the next request's)."""
        earlier: List[Dict[str, Any]] = []
        pending = self._pending.pop(conversation, None)
        if pending is not None:
            try:
                earlier = await asyncio.wait_for(asyncio.shield(pending), self.filler_after_seconds)
            except asyncio.TimeoutError:
                self._pending[conversation] = pending
                return [_message(response_words(agent, FILLER_RESPONSE, CHANNEL))]
            except Problem:
                earlier = []
            # The silence VoiceAI Connect reports while the caller waited is not theirs.
            events = [event for event in events if event.type != "no_input"]
        task = asyncio.ensure_future(self._answer_all(events, agent, pipeline))
        try:
            later = await asyncio.wait_for(asyncio.shield(task), self.filler_after_seconds)
        except asyncio.TimeoutError:
            self._pending[conversation] = task
            logger.info("AudioCodes conversation %s: the assistant is slow, a filler is said", conversation)
            return earlier + [_message(response_words(agent, FILLER_RESPONSE, CHANNEL))]
        return earlier + later

    async def _answer_all(self, events: List[CallEvent], agent: Any, pipeline: ChannelPipeline) -> List[Dict[str, Any]]:
        answered: List[Dict[str, Any]] = []
        for event in events:
            outcome = await self.core.answer(event, _digest(event), agent, pipeline, _render,
                                             retry_wait_seconds=self.filler_after_seconds)
            if outcome.reply is None:
                if outcome.code == "event_in_progress" or not answered:
                    status = 410 if outcome.code == "call_ended" else outcome.status
                    raise Problem(status, outcome.code, outcome.message, outcome.headers or None)
                break  # what was answered is given; the rest comes again with the retry
            answered.extend(outcome.reply["activities"])
        return answered


# --- activities in ---------------------------------------------------------------------------

def _activities(body: Dict[str, Any]) -> List[Dict[str, Any]]:
    activities = body.get("activities")
    if not isinstance(activities, list) or not 1 <= len(activities) <= MAX_ACTIVITIES:
        raise Problem(422, "validation_error", f"« activities » : liste de 1 à {MAX_ACTIVITIES} activités attendue.")
    if not all(isinstance(activity, dict) for activity in activities):
        raise Problem(422, "validation_error", "Chaque activité doit être un objet JSON.")
    return activities


def _event(conversation: str, activity: Dict[str, Any]) -> Optional[CallEvent]:
    """The call core's event for one activity; None for an event the line does not act on
    (VoiceAI Connect may send more than these)."""
    event_id = _identifier(activity.get("id"), "id")
    kind, name = activity.get("type"), activity.get("name")
    parameters = activity.get("parameters") if isinstance(activity.get("parameters"), dict) else {}
    value = activity.get("value")
    base = {"event_id": event_id, "call_id": conversation}
    if kind == "message":
        text = activity.get("text")
        if not isinstance(text, str) or len(text) > MAX_MESSAGE_LENGTH:
            raise Problem(422, "validation_error", f"« text » : texte de {MAX_MESSAGE_LENGTH} caractères au plus attendu.")
        confidence = parameters.get("confidence", 1.0)
        # Compared, never converted (NaN, infinities and huge integers fail the comparison).
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
            raise Problem(422, "validation_error", "« parameters.confidence » : nombre entre 0 et 1 attendu.")
        return CallEvent(type="utterance", alternatives=(Alternative(text, float(confidence)),), **base)
    if kind != "event":
        raise Problem(422, "validation_error", "« type » : « message » ou « event » attendu.")
    if name == "start":
        caller = parameters.get("caller")
        return CallEvent(type="start", caller=caller[:40] if isinstance(caller, str) else None, **base)
    if name == "DTMF":
        digits = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        if not _DIGITS.fullmatch(digits):
            raise Problem(422, "validation_error", "« value » : 1 à 32 touches parmi 0-9, * et # attendues.")
        return CallEvent(type="dtmf", digits=digits, **base)
    if name == "noUserInput":
        return CallEvent(type="no_input", **base)
    if name == "transferStatus":
        value = value if isinstance(value, dict) else {}
        if value.get("status") == "answered":
            return CallEvent(type="transfer_status", transfer_status="completed", **base)
        return CallEvent(type="transfer_status", transfer_status=TRANSFER_FAILURES.get(value.get("reasonCode"), "failed"),
                         **base)
    logger.info("AudioCodes event %s not acted on", str(name)[:40])
    return None


def _identifier(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise Problem(422, "validation_error", f"« {field} » : 1 à 90 caractères parmi lettres, chiffres et . _ : - attendus.")
    return value


def _digest(event: CallEvent) -> str:
    """What makes the activity: the same id with other content is another activity."""
    return hashlib.sha256(repr(event).encode()).hexdigest()


# --- activities out ----------------------------------------------------------------------------

def _render(actions: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The call core's voice actions as VoiceAI Connect's activities (ids and times made once:
    a replay gives the same)."""
    activities: List[Dict[str, Any]] = []
    for action in actions:
        if action["type"] == "say" and action["text"]:
            activities.append(_message(action["text"]))
        elif action["type"] == "listen":
            # The caller may speak over the last message; the keys they type are collected until « # ».
            max_digits = action.get("dtmf", {}).get("max_digits", MAX_DIGITS_WITHOUT_MENU)
            if activities and activities[-1]["type"] == "message":
                activities[-1]["activityParams"] = {"bargeIn": True}
                activities[-1]["sessionParams"] = {**DTMF_SETTINGS, "dtmfCollectMaxDigits": max_digits}
        elif action["type"] == "transfer":
            params: Dict[str, Any] = {"transferTarget": f"tel:{action['target']}"}
            reference = action.get("sip_headers", {}).get(HANDOFF_SIP_HEADER)
            if reference:  # the hand-off's reference only: nothing personal travels with the call
                params["transferSipHeaders"] = [{"name": HANDOFF_SIP_HEADER, "value": reference}]
            activities.append(_activity({"type": "event", "name": "transfer", "activityParams": params}))
        elif action["type"] == "hangup":
            activities.append(_activity({"type": "event", "name": "hangup",
                                         "activityParams": {"hangupReason": action.get("reason") or "completed"}}))
    return {"activities": activities}


def _message(text: str) -> Dict[str, Any]:
    return _activity({"type": "message", "text": text})


def _activity(fields: Dict[str, Any]) -> Dict[str, Any]:
    now = datetime.now(timezone.utc)
    return {"id": str(uuid.uuid4()), "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            **fields}


def _error(problem: Problem) -> HTTPResponse:
    return response.json({"error": {"code": problem.code, "message": problem.message}}, status=problem.status,
                         headers=problem.headers)

