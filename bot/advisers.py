"""The advisers' console's side of the Rasa server: an adviser reads a conversation,
takes it over live (the assistant falls silent), writes to the customer on the channel
they used, and gives it back to the assistant.

Routes (added to every Rasa app by bot.startup, whatever its channels), each needing
`Authorization: Bearer ADVISER_CONSOLE_TOKEN` (401 otherwise) and a grant the policy
service signed for the path's conversation (core.adviser_grant, header `X-Adviser-Grant`;
403 with the refusal's code otherwise); the routes that act need a "write" grant:

- `GET /advisers/conversations/<id>?after=<timestamp>` → {conversation_id, channel, paused,
  messages: [{from: customer | assistant | adviser, text, at, timestamp}]}: the
  conversation as stored (masked), only the messages after `after`;
- `POST /advisers/conversations/<id>/take` → the conversation paused (Rasa's
  ConversationPaused: the assistant answers nothing) and the customer told
  utter_adviser_joined; {paused: true}. Taking a paused conversation again changes nothing;
- `POST /advisers/conversations/<id>/messages` {text} → the adviser's words sent on the
  customer's channel; {delivered: true}. Only while paused (409 `not_paused`);
- `POST /advisers/conversations/<id>/close` → the customer told utter_adviser_left and
  the conversation resumed: the assistant answers the next message, its state as it was;
  {paused: false}.

An adviser's message is a bot event whose metadata has {"adviser": their name,
"handoff": the reference}. Only channels that can be written to later are: the widget
(its socket.io room, from any replica through the Redis manager, connectors.widget).
The messaging apps are, at the address the customer's last message came from
(connectors.recipients: their conversation id is a pseudonym), as long as the platform
lets a business write back: WhatsApp and Messenger refuse a business message more than
24 hours after the customer's last one (409 `outside_window`), Telegram is written to for
a week. The REST channel and the phone cannot be written to later (409 `channel_unreachable`).

While paused, a customer's message is stored (masked, as always) and nothing else happens:
no slot is filled from it (keep_paused_conversations_still), no action runs (Rasa's
prediction loop, and bot.two_requests', stop there), no new session starts while the
adviser works on it (PAUSE_KEEPS_SESSION), so the assistant takes the conversation back
as it was.

Every change of the tracker is made under the lock store's lock of the conversation, as
Rasa's own `/conversations/<id>/tracker/events` does, so that it never crosses a turn of
the assistant on another replica.
"""
import hmac
import logging
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Text
from urllib.parse import unquote

from rasa.core.channels.channel import OutputChannel
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, ConversationPaused, ConversationResumed, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guard import MAX_MESSAGE_LENGTH, UnreadableJson, read_json
from connectors.pipeline import response_words
from connectors.recipients import recipients
from core import adviser_grant
from core.clock import PARIS, now_utc
from core.settings import read

logger = logging.getLogger(__name__)

JOINED_RESPONSE = "utter_adviser_joined"
LEFT_RESPONSE = "utter_adviser_left"
ADVISER_KEY, HANDOFF_KEY = "adviser", "handoff"
# Channels whose customers an adviser can write to at any time (an open socket.io room).
WRITABLE_CHANNELS = frozenset({"widget"})
# Messaging apps: written to at the address the customer's last message came from
# (connectors.recipients), while the platform lets a business write back.
MESSAGING_CHANNELS = frozenset({"whatsapp", "telegram", "messenger"})
# Platforms that refuse a business message more than 24 hours after the customer's last one.
WINDOW_CHANNELS = frozenset({"whatsapp", "messenger"})
MESSAGING_WINDOW = timedelta(hours=24)
MAX_BODY_BYTES = 16 * 1024  # a 2000-character message in JSON, escaped


class Refused(Exception):
    """An adviser route's refusal: its status and code."""

    def __init__(self, status: int, code: Text, message: Text) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def _refusal(refused: Refused) -> HTTPResponse:
    return response.json({"error": {"code": refused.code, "message": refused.message}}, status=refused.status)


def check_console_token(authorization: Optional[Text], token: Text) -> None:
    """Raises Refused (401) unless `authorization` is `Bearer <token>` (compared in constant
    time); an empty token refuses everything."""
    given = (authorization or "").encode()
    expected = f"Bearer {token}".encode()
    if not token or not hmac.compare_digest(given, expected):
        raise Refused(401, "unauthorized", "the advisers' console token is missing or wrong")


def grant_for(request: Request, conversation_id: Text, scope: Text) -> adviser_grant.AdviserGrant:
    """The verified grant of the request for `conversation_id`; Refused (401, 403) otherwise."""
    check_console_token(request.headers.get("Authorization"), read("ADVISER_CONSOLE_TOKEN"))
    try:
        return adviser_grant.verify(request.headers.get(adviser_grant.HEADER), read("ADVISER_GRANT_SECRET"),
                                    now_utc(), conversation_id, scope)
    except adviser_grant.GrantRefused as refused:
        raise Refused(403, refused.code, "the adviser grant does not open this conversation") from None


def speaker(event: BotUttered) -> Text:
    return "adviser" if (event.metadata or {}).get(ADVISER_KEY) else "assistant"


def messages_after(events: List[Any], after: float) -> List[Dict[Text, Any]]:
    """The customer's, the assistant's and the advisers' messages later than `after`."""
    messages = []
    for event in events:
        if not isinstance(event, (UserUttered, BotUttered)) or not event.text or event.timestamp <= after:
            continue
        messages.append({
            "from": "customer" if isinstance(event, UserUttered) else speaker(event),
            "text": event.text,
            "at": datetime.fromtimestamp(event.timestamp, PARIS).isoformat(timespec="seconds"),
            "timestamp": event.timestamp,
        })
    return messages


def outside_window(events: List[Any], channel: Optional[Text], now: float) -> bool:
    """True when `channel` limits business messages to 24 hours after the customer's last
    message and that message is older (or there is none)."""
    if channel not in WINDOW_CHANNELS:
        return False
    last = next((event.timestamp for event in reversed(events) if isinstance(event, UserUttered)), None)
    return last is None or now - last > MESSAGING_WINDOW.total_seconds()


async def output_channel_of(app: Any, tracker: Any) -> OutputChannel:
    """The output channel of the customer's channel (the tracker's latest input channel);
    Refused (409) when the customer cannot be written to there now."""
    channel = tracker.get_latest_input_channel()
    if outside_window(list(tracker.events), channel, now_utc().timestamp()):
        raise Refused(409, "outside_window", "the platform takes no message 24 hours after the customer's last one")
    inputs = [each for each in getattr(app.ctx, "input_channels", None) or [] if each.name() == channel]
    output = None
    if inputs and channel in WRITABLE_CHANNELS:
        output = inputs[0].get_output_channel()
    elif inputs and channel in MESSAGING_CHANNELS:
        # None within the window: the address was not kept (a replica restarted without Redis).
        recipient = await recipients().find(tracker.sender_id)
        output = inputs[0].output_to(recipient.address) if recipient is not None else None
    if output is None:
        raise Refused(409, "channel_unreachable", f"the customer cannot be written to on the channel {channel}")
    return output


def message_text(request: Request) -> Text:
    """The adviser's message of the body {text}: 1 to MAX_MESSAGE_LENGTH characters."""
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise Refused(413, "payload_too_large", "the body is too large")
    try:
        body = read_json(request.body or b"")
    except UnreadableJson:
        body = None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE_LENGTH:
        raise Refused(422, "validation_error", f"text: 1 to {MAX_MESSAGE_LENGTH} characters")
    return text.strip()


async def _stored_tracker(agent: Any, conversation_id: Text) -> Any:
    tracker = await agent.tracker_store.retrieve_full_tracker(conversation_id)
    if tracker is None or not tracker.events:
        raise Refused(404, "not_found", "no such conversation")
    return tracker


async def _say(output: OutputChannel, tracker: Any, text: Text, metadata: Dict[Text, Any]) -> None:
    """Sends `text` to the customer, and records it in the tracker. An adviser's own words go
    with their name where the channel shows who writes (the widget)."""
    adviser = metadata.get(ADVISER_KEY)
    if adviser and hasattr(output, "send_adviser_text"):
        await output.send_adviser_text(tracker.sender_id, text, adviser)
    else:
        await output.send_response(tracker.sender_id, {"text": text})
    tracker.update(BotUttered(text, {}, metadata))


def advisers_blueprint() -> Blueprint:
    """The adviser routes (see the module's documentation)."""
    advisers = Blueprint("advisers", url_prefix="/advisers/conversations")

    @advisers.get("/<conversation_id:path>")
    async def conversation(request: Request, conversation_id: Text) -> HTTPResponse:
        conversation_id = unquote(conversation_id)  # sanic hands path parameters on as sent
        try:
            grant_for(request, conversation_id, "read")
            after = _after(request.args.get("after"))
            tracker = await _stored_tracker(request.app.ctx.agent, conversation_id)
        except Refused as refused:
            return _refusal(refused)
        return response.json({
            "conversation_id": conversation_id,
            "channel": tracker.get_latest_input_channel(),
            "paused": tracker.is_paused(),
            "messages": messages_after(list(tracker.events), after),
        })

    @advisers.post("/<conversation_id:path>/take")
    async def take(request: Request, conversation_id: Text) -> HTTPResponse:
        return await _act(request, conversation_id, _take)

    @advisers.post("/<conversation_id:path>/messages")
    async def send(request: Request, conversation_id: Text) -> HTTPResponse:
        try:
            text = message_text(request)
        except Refused as refused:
            return _refusal(refused)

        async def message(agent: Any, output: Any, tracker: Any, grant: Any) -> Dict[Text, Any]:
            if not tracker.is_paused():
                raise Refused(409, "not_paused", "take the conversation before writing to the customer")
            await _say(await output(), tracker, text, _adviser_metadata(grant))
            return {"delivered": True}

        return await _act(request, conversation_id, message)

    @advisers.post("/<conversation_id:path>/close")
    async def close(request: Request, conversation_id: Text) -> HTTPResponse:
        return await _act(request, conversation_id, _close)

    return advisers


def _after(value: Optional[Text]) -> float:
    if value in (None, ""):
        return 0.0
    try:
        after = float(value)
    except ValueError:
        after = float("nan")
    if after != after or after in (float("inf"), float("-inf")):
        raise Refused(422, "validation_error", "after: a timestamp (seconds since 1970)")
    return after


def _adviser_metadata(grant: adviser_grant.AdviserGrant) -> Dict[Text, Any]:
    return {ADVISER_KEY: grant.adviser_name, HANDOFF_KEY: grant.reference}


async def _act(request: Request, conversation_id: Text, action: Any) -> HTTPResponse:
    """Runs `action(agent, output, tracker, grant)` on the conversation under its lock and
    saves what it changed; `await output()` is the customer's output channel (or Refused)."""
    agent = request.app.ctx.agent
    conversation_id = unquote(conversation_id)  # sanic hands path parameters on as sent
    try:
        grant = grant_for(request, conversation_id, "write")
        await _stored_tracker(agent, conversation_id)  # no conversation is created here
        async with agent.lock_store.lock(conversation_id):
            processor = agent.processor
            tracker = await processor.fetch_tracker_with_initial_session(conversation_id)
            answer = await action(agent, lambda: output_channel_of(request.app, tracker), tracker, grant)
            await processor.save_tracker(tracker)
    except Refused as refused:
        return _refusal(refused)
    return response.json(answer)


async def _take(agent: Any, output: Any, tracker: Any, grant: adviser_grant.AdviserGrant) -> Dict[Text, Any]:
    if not tracker.is_paused():
        channel = await output()  # the customer must be reachable before the assistant falls silent
        tracker.update(ConversationPaused())
        words = response_words(agent, JOINED_RESPONSE, tracker.get_latest_input_channel() or "",
                               adviser=grant.adviser_name)
        if words:  # the assistant's words, telling who joined
            await _say(channel, tracker, words, {"utter_action": JOINED_RESPONSE, HANDOFF_KEY: grant.reference})
        logger.info("conversation taken over by an adviser (hand-off %s)", grant.reference)
    return {"paused": True}


async def _close(agent: Any, output: Any, tracker: Any, grant: adviser_grant.AdviserGrant) -> Dict[Text, Any]:
    if tracker.is_paused():
        try:
            channel = await output()
            words = response_words(agent, LEFT_RESPONSE, tracker.get_latest_input_channel() or "",
                                   adviser=grant.adviser_name)
        except Refused:  # the customer can no longer be told: the assistant answers them anyway
            channel, words = None, ""
        if channel is not None and words:
            await _say(channel, tracker, words, {"utter_action": LEFT_RESPONSE})
        tracker.update(ConversationResumed())
        logger.info("conversation given back to the assistant (hand-off %s)", grant.reference)
    return {"paused": False}


# A paused conversation keeps its session while an adviser works on it (Rasa starts a new one,
# which resumes it, an hour after the customer's last message): a customer who asked for an
# adviser long ago, or who is silent while the adviser looks into the file, is still theirs.
# A conversation an adviser left paused without closing it expires this long after their
# last word, and the assistant answers again.
PAUSE_KEEPS_SESSION = timedelta(hours=8)

_original_extract_slots = MessageProcessor.run_action_extract_slots
_original_session_expired = MessageProcessor._has_session_expired


async def run_action_extract_slots(self: MessageProcessor, output_channel: Any, tracker: Any) -> Any:
    if not self._should_handle_message(tracker):  # paused: the customer talks to an adviser
        return tracker
    return await _original_extract_slots(self, output_channel, tracker)


def adviser_last_active(tracker: Any) -> Optional[float]:
    """When the adviser of a paused conversation took it or last wrote; None when not paused."""
    if not tracker.is_paused():
        return None
    for event in reversed(tracker.events):
        if isinstance(event, ConversationPaused) or (
                isinstance(event, BotUttered) and (event.metadata or {}).get(ADVISER_KEY)):
            return event.timestamp
    return None


def has_session_expired(self: MessageProcessor, tracker: Any) -> bool:
    active = adviser_last_active(tracker)
    if active is not None and now_utc().timestamp() - active < PAUSE_KEEPS_SESSION.total_seconds():
        return False
    return _original_session_expired(self, tracker)


def keep_paused_conversations_still() -> None:
    """While an adviser has the conversation: no slot filled from a customer's message, no
    new session (running it again changes nothing)."""
    MessageProcessor.run_action_extract_slots = run_action_extract_slots
    MessageProcessor._has_session_expired = has_session_expired
