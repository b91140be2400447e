"""The Rasa server's side of the claim notices: the notifier (connectors.notifier) hands each
notice the services queued to `POST /notices/conversations/<conversation_id>`, and this
route delivers it to the customer on the channel they consented on, as the assistant.

`Authorization: Bearer NOTIFIER_TOKEN` (401 otherwise: no other token opens it, and this one
opens nothing else). Body {"notice_id", "channel", "address", "text", "template"?: {"name",
"language", "parameters": [str]}}. Answers:

- 200 {"delivered": true, "duplicate": false}: sent, and added to the conversation's history
  as the assistant's message (metadata {"notice": notice_id});
- 200 {"delivered": true, "duplicate": true}: that notice was already delivered (remembered
  in the conversation and, for a week, in Redis with REDIS_HOST, in the process otherwise):
  nothing is sent again, whatever the notifier retried after dying;
- 409 {"code": "not_connected"}: the widget's customer has no page open (nor the
  conversation any other way to reach them): the notifier asks the services for the
  e-mail or SMS fallback;
- 410 {"code": "recipient_gone"}: the platform says it will never reach this customer
  (blocked the bot, left the platform: connectors.messaging.RECIPIENT_GONE): the notifier
  asks for the fallback at once rather than retrying;
- 502 {"code": "platform_error"}: the platform refused or did not answer; nothing is
  remembered, the notifier retries later;
- 404 not_found (no such conversation), 422 validation_error.

Per channel: the widget's socket.io room (the page open, on this replica or another one:
connectors.widget_presence; as bot.advisers reaches it);
WhatsApp a text inside the 24-hour window after the customer's last message, outside it
the approved template (the notice's, or WHATSAPP_NOTICE_TEMPLATE in
WHATSAPP_NOTICE_TEMPLATE_LANGUAGE with the text as its one parameter); Messenger with
messaging_type MESSAGE_TAG and tag ACCOUNT_UPDATE (connectors.messenger); Telegram
sendMessage. The platform address is the one the customer's consent was given from (the
channel signed it: connectors.reply_addresses), never read from the conversation.

One delivery at a time per conversation (the lock store's lock, as every change of a
tracker), and a delivery goes to its end even when the notifier hangs up meanwhile, so a
notifier killed in the middle finds, when it retries, the notice delivered once.
"""
import asyncio
import logging
import time
from typing import Any, Dict, Optional, Text
from urllib.parse import unquote

from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guard import MAX_MESSAGE_LENGTH, UnreadableJson, read_json
from connectors.shared_state import KEY_PREFIX, SharedRedis, Unavailable, shared_redis
from core.clock import now_utc
from core.settings import read

logger = logging.getLogger(__name__)

NOTICE_KEY = "notice"  # a notice's BotUttered metadata: {"notice": its id}
NOTICE_CHANNELS = frozenset({"widget", "whatsapp", "telegram", "messenger"})
WHATSAPP_WINDOW_SECONDS = 24 * 3600
REMEMBERED_SECONDS = 7 * 24 * 3600  # a notice id, against a notifier's retries
MAX_BODY_BYTES = 16 * 1024
_FROM_ENVIRONMENT: Any = object()


class Refused(Exception):
    def __init__(self, status: int, code: Text, message: Text) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def _refusal(refused: Refused) -> HTTPResponse:
    return response.json({"code": refused.code, "error": {"code": refused.code, "message": refused.message}},
                         status=refused.status)


def check_notifier_token(authorization: Optional[Text], token: Text) -> None:
    """Refused (401) unless `authorization` is `Bearer <token>`; an empty token refuses all."""
    import hmac

    if not token or not hmac.compare_digest((authorization or "").encode(), f"Bearer {token}".encode()):
        raise Refused(401, "unauthorized", "the notifier's token is missing or wrong")


class DeliveredNotices:
    """The notice ids already delivered (or being delivered): in Redis with REDIS_HOST, so that
    every replica knows them; in the process otherwise (and while Redis fails)."""

    def __init__(self, shared: Optional[SharedRedis] = _FROM_ENVIRONMENT) -> None:
        self._shared = shared_redis() if shared is _FROM_ENVIRONMENT else shared
        self._here: Dict[str, float] = {}

    async def claim(self, notice_id: str) -> bool:
        """True the first time `notice_id` is claimed (then it is to be delivered)."""
        now = time.time()
        for key in [key for key, at in self._here.items() if now - at > REMEMBERED_SECONDS]:
            del self._here[key]
        if self._shared is not None and self._shared.available():
            try:
                first = await self._shared.run(lambda client: client.set(
                    _key(notice_id), "1", nx=True, ex=REMEMBERED_SECONDS))
                if not first:
                    return False
            except Unavailable:
                pass
        if notice_id in self._here:
            return False
        self._here[notice_id] = now
        return True

    async def release(self, notice_id: str) -> None:
        """The delivery failed: the notice may be tried again."""
        self._here.pop(notice_id, None)
        if self._shared is not None and self._shared.available():
            try:
                await self._shared.run(lambda client: client.delete(_key(notice_id)))
            except Unavailable:
                pass


def _key(notice_id: str) -> str:
    return f"{KEY_PREFIX}notice:{notice_id}"


_delivered: Optional[DeliveredNotices] = None


def delivered_notices() -> DeliveredNotices:
    global _delivered
    if _delivered is None:
        _delivered = DeliveredNotices()
    return _delivered


def read_notice(request: Request) -> Dict[Text, Any]:
    """The body's notice, checked; Refused (413, 422) otherwise."""
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise Refused(413, "payload_too_large", "the body is too large")
    try:
        body = read_json(request.body or b"")
    except UnreadableJson:
        body = None
    if not isinstance(body, dict):
        raise Refused(422, "validation_error", "a JSON object is expected")
    notice_id, channel, address, text = (body.get(key) for key in ("notice_id", "channel", "address", "text"))
    if isinstance(notice_id, int) and not isinstance(notice_id, bool):
        notice_id = str(notice_id)
    problems = []
    if not isinstance(notice_id, str) or not notice_id.strip() or len(notice_id) > 100:
        problems.append("notice_id")
    if channel not in NOTICE_CHANNELS:
        problems.append(f"channel (one of {', '.join(sorted(NOTICE_CHANNELS))})")
    if not isinstance(address, str) or not address or len(address) > 254:
        problems.append("address")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE_LENGTH:
        problems.append(f"text (1 to {MAX_MESSAGE_LENGTH} characters)")
    template = body.get("template")
    if template is not None and not (isinstance(template, dict) and all(
            isinstance(template.get(key, ""), str) for key in ("name", "language"))
            and isinstance(template.get("parameters", []), list)):
        problems.append("template")
    if problems:
        raise Refused(422, "validation_error", "invalid: " + "; ".join(problems))
    return {"notice_id": notice_id.strip(), "channel": channel, "address": address, "text": text.strip(),
            "template": template or {}}


def _input_channel(app: Any, name: Text) -> Any:
    found = [each for each in getattr(app.ctx, "input_channels", None) or [] if each.name() == name]
    if not found:
        raise Refused(409, "not_connected", f"the channel {name} is not served here")
    return found[0]


async def widget_connected(sio: Any, conversation_id: Text) -> bool:
    """Whether a page of the conversation has its socket open, on this server or (REDIS_HOST)
    another replica (connectors.widget_presence): the emit reaches it through Redis."""
    from connectors.widget_presence import widget_presence

    try:
        if any(True for _ in sio.manager.get_participants("/", conversation_id)):
            return True
    except (AttributeError, KeyError):
        pass
    return await widget_presence().elsewhere(conversation_id)


def within_whatsapp_window(events: Any, now: float) -> bool:
    """The customer wrote less than 24 hours ago: a free-form message is allowed."""
    last = next((event.timestamp for event in reversed(list(events)) if isinstance(event, UserUttered)), None)
    return last is not None and now - last < WHATSAPP_WINDOW_SECONDS


def whatsapp_template(notice: Dict[Text, Any]) -> Dict[Text, Any]:
    """The template message of a notice outside the window (connectors.whatsapp)."""
    from connectors.whatsapp import notice_template

    template = notice["template"]
    parameters = [str(each) for each in template.get("parameters") or []] or [notice["text"]]
    return notice_template(template.get("name") or read("WHATSAPP_NOTICE_TEMPLATE"),
                           template.get("language") or read("WHATSAPP_NOTICE_TEMPLATE_LANGUAGE"), parameters)


async def send(app: Any, notice: Dict[Text, Any], conversation_id: Text, events: Any) -> Optional[Text]:
    """Sends the notice on its channel; None when sent, else the refusal's code
    ("not_connected", "platform_error", "recipient_gone")."""
    channel, address, text = notice["channel"], notice["address"], notice["text"]
    if channel == "widget":
        widget = _input_channel(app, "widget")
        sio = getattr(widget, "sio", None)
        if sio is None or address != conversation_id or not await widget_connected(sio, conversation_id):
            return "not_connected"
        await widget.get_output_channel().send_response(conversation_id, {"text": text})
        return None
    output = _input_channel(app, channel).output_to(address)
    if channel == "whatsapp":
        from connectors import whatsapp

        inside = within_whatsapp_window(events, now_utc().timestamp())
        return await whatsapp.send_notice(output, text, None if inside else whatsapp_template(notice))
    if channel == "messenger":
        from connectors import messenger

        return await messenger.send_notice(output, text)
    from connectors import telegram

    return await telegram.send_notice(output, text)


def already_told(events: Any, notice_id: Text) -> bool:
    return any(isinstance(event, BotUttered) and (event.metadata or {}).get(NOTICE_KEY) == notice_id
               for event in events)


async def deliver(app: Any, agent: Any, conversation_id: Text, notice: Dict[Text, Any]) -> Dict[Text, Any]:
    """Delivers the notice once (see the module's documentation); Refused otherwise."""
    store = agent.tracker_store
    lock_store = getattr(agent, "lock_store", None)
    if lock_store is not None:
        async with lock_store.lock(conversation_id):
            return await _deliver(app, store, conversation_id, notice)
    async with _local_locks.setdefault(conversation_id, asyncio.Lock()):  # an agent without a lock store
        return await _deliver(app, store, conversation_id, notice)


_local_locks: Dict[Text, asyncio.Lock] = {}


async def _deliver(app: Any, store: Any, conversation_id: Text, notice: Dict[Text, Any]) -> Dict[Text, Any]:
    tracker = await store.retrieve_full_tracker(conversation_id)
    if tracker is None or not tracker.events:
        raise Refused(404, "not_found", "no such conversation")
    notice_id = notice["notice_id"]
    if already_told(tracker.events, notice_id) or not await delivered_notices().claim(notice_id):
        logger.info("notice %s already delivered: not sent again", notice_id)
        return {"delivered": True, "duplicate": True}
    try:
        refused = await send(app, notice, conversation_id, tracker.events)
    except Refused:
        await delivered_notices().release(notice_id)
        raise
    except Exception:
        await delivered_notices().release(notice_id)
        logger.exception("notice %s: sending failed", notice_id)
        raise Refused(502, "platform_error", "the notice could not be sent") from None
    if refused is not None:
        await delivered_notices().release(notice_id)
        if refused == "not_connected":
            raise Refused(409, refused, "the customer cannot be reached on this channel now")
        if refused == "recipient_gone":
            raise Refused(410, refused, "the platform will not reach this customer")
        raise Refused(502, refused, "the platform did not take the notice")
    current = await store.retrieve(conversation_id)
    if current is not None:
        current.update(BotUttered(notice["text"], {}, {NOTICE_KEY: notice_id}))
        await store.save(current)
    logger.info("notice %s delivered on %s", notice_id, notice["channel"])
    return {"delivered": True, "duplicate": False}


def notices_blueprint() -> Blueprint:
    """`POST /notices/conversations/<conversation_id>` (see the module's documentation)."""
    notices = Blueprint("notices", url_prefix="/notices/conversations")

    @notices.post("/<conversation_id:path>")
    async def notice(request: Request, conversation_id: Text) -> HTTPResponse:
        conversation_id = unquote(conversation_id)  # sanic hands path parameters on as sent
        try:
            check_notifier_token(request.headers.get("Authorization"), read("NOTIFIER_TOKEN"))
            body = read_notice(request)
            # Shielded: a notifier that hangs up (killed, timed out) does not cut a delivery
            # in two; its retry then finds the notice delivered.
            answer = await asyncio.shield(deliver(request.app, request.app.ctx.agent, conversation_id, body))
        except Refused as refused:
            return _refusal(refused)
        return response.json(answer)

    return notices
