"""The web widget's channel: socket.io at `/socket.io`, file uploads at `/webhooks/widget/upload`.

Events between the widget and the server (Rasa's socket.io shapes, so any socket.io chat
client can talk to it):
- `session_request` {"session_id": <id or null>, "customData": {"auth_token": <JWT>}} →
  `session_confirm` <id>, then `history` [<message>...]: the conversation so far, so that a
  reloaded page shows it again. Messages of the history carry `"sender": "user" | "bot"`.
  Counted with the messages of its client's address (connectors.rate_limit): beyond, a
  polite `bot_uttered` and no session.
- `user_uttered` {"message": "..."} → `bot_typing` true, `bot_uttered` <message>...,
  `bot_typing` false. A message has `text`, `quick_replies`, `attachment` (image or file)
  or `custom`. Empty, oversized or too frequent messages get a polite `bot_uttered` and
  never reach the NLU (connectors.guard, connectors.rate_limit).
- `POST /webhooks/widget/upload`, multipart `session_id`, `socket_id` (the widget's socket)
  and `file` → 201 {"attachment": ...}, the assistant's answer coming over socket.io; or
  4xx {"error": {"code", "message"}} with the French reason, the conversation untouched
  and nothing stored: 422 file refused, 403 `not_taken` (a visitor not identified, no
  claim declaration open: connectors.attachments.not_taken_because), 429 too many requests or
  `too_many_files` (connectors.upload_limits, with `Retry-After`), 409 no open conversation.

The espace-client session token given with `session_request` is kept with the socket and
sent as `metadata.auth_token` with every message of that socket (spec §5); a token in a
message's own `customData` (as rasa-webchat sends it) goes with that message instead.

Session ids are 32 hexadecimal digits, chosen by the server when the widget has none: the
id is the conversation's secret. The conversation itself is `widget:<session id>`
(connectors.guard.conversation_id): no widget can name another channel's conversation.

Bounded input: a socket.io message is at most MAX_SOCKET_MESSAGE_BYTES and its JSON at most
connectors.guard.MAX_BODY_DEPTH levels deep, and `customData` is checked by
connectors.guard.screen_metadata; beyond, a polite refusal and nothing processed.

Only pages of the allowed origins (WIDGET_ALLOWED_ORIGINS, which the Rasa server's `--cors`
lists too) may open a socket: a browser sends its page's origin, and a socket opened from
another site is refused.
"""

import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text, Tuple

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.packet import BINARY_EVENT, EVENT, Packet

from connectors.attachments import (
    ATTACH_DOCUMENT_TEXT,
    attach_document_message,
    file_sender,
    receive_file,
    refusal_text,
    upload_max_bytes,
)
from connectors.guard import (
    CLIENT_SOURCE,
    REFUSALS,
    UnreadableJson,
    allowed_origins,
    conversation_id,
    offered_payloads,
    read_json,
    screen_metadata,
    screen_text,
    without_shortcut,
)
from connectors.rate_limit import check_rate, rate_limiter, retry_after
from connectors.rate_limit import refusal_text as too_many_messages
from connectors.upload_limits import upload_allowances
from server_extensions.action_endpoint import answer_when_actions_fail
from server_extensions.startup import prepare_rasa_server

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"[0-9a-f]{32}")  # matched whole (fullmatch)
MAX_TOKEN_LENGTH = 4096
# Well above a message (2000 characters) and its customData (connectors.guard.MAX_METADATA_BYTES),
# so that oversized customData gets the polite refusal; engine.io drops a client sending more.
MAX_SOCKET_MESSAGE_BYTES = 256 * 1024
# The event a socket.io packet becomes when its JSON cannot be read (too deep, malformed) or
# names no event.
UNREADABLE_EVENT = "unreadable_message"
# The page's origin a browser sends when it opens the socket, as the handshake's WSGI environ names it.
ORIGIN_HEADER = "HTTP_ORIGIN"

# Room for the multipart envelope and the form fields around the file.
MULTIPART_OVERHEAD = 64 * 1024

WIDGET_REFUSALS = {
    "not_multipart": "Envoyez le fichier dans un formulaire (multipart/form-data), champ « file ».",
    "no_file": "Aucun fichier reçu : choisissez une photo ou un PDF.",
    "no_session": "La conversation n'est plus ouverte : rechargez la page, puis joignez à nouveau votre fichier.",
}


class _UnreadableRequests(logging.Filter):
    """engine.io logs a request body it cannot read (more than 16 packets, a packet of no known
    type...) as an unexpected error, with its stack trace: any client could fill the logs with
    them, ten lines a request. It is the client's doing: one line, a warning, no trace. Any
    other error keeps its trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.msg == "post request handler error" and isinstance(error, (ValueError, IndexError)):
            record.msg, record.args = "socket.io request refused: %s", (str(error)[:100],)
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
            record.exc_info, record.exc_text = None, None
        return True


ENGINE_IO_LOGGER = logging.getLogger("engineio.server")
if not any(isinstance(existing, _UnreadableRequests) for existing in ENGINE_IO_LOGGER.filters):
    ENGINE_IO_LOGGER.addFilter(_UnreadableRequests())


class _BoundedJson:
    """The JSON of socket.io packets, read with connectors.guard.read_json: python-socketio's
    own reading is recursive and fails deep inside its handler on deeply nested input."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: Text) -> Any:
        try:
            return read_json(text)
        except UnreadableJson:  # answered as any refused input, never processed
            return [UNREADABLE_EVENT]


class _BoundedPacket(Packet):
    """A socket.io packet read with _BoundedJson; an event packet that names no event (`2[]`,
    `2{}`, `2` alone...) becomes UNREADABLE_EVENT, where python-socketio would fail on it."""

    json = _BoundedJson

    def decode(self, encoded_packet: Any) -> Any:
        attachments = super().decode(encoded_packet)
        if self.packet_type in (EVENT, BINARY_EVENT) and not (
                isinstance(self.data, list) and self.data and isinstance(self.data[0], str)):
            self.data = [UNREADABLE_EVENT]
        return attachments


class WidgetOutput(SocketIOOutput):
    """Rasa's socket.io output; custom payloads sent as `{"custom": ...}` like every other message."""

    @classmethod
    def name(cls) -> Text:
        return "widget"

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class _Recorder(WidgetOutput):
    """Collects the messages the widget would have received, to replay them as history."""

    def __init__(self) -> None:
        super().__init__(sio=None, bot_message_evt="")
        self.messages: List[Dict[Text, Any]] = []

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.messages.append(response)


async def conversation_history(events: Iterable[Any]) -> List[Dict[Text, Any]]:
    """The messages of a conversation as the widget shows them.

    A button the customer pressed shows its title, not its payload; attached files show
    their names.
    """
    history: List[Dict[Text, Any]] = []
    titles: Dict[Text, Text] = {}  # payload → title, for the buttons of the last answers
    for event in events:
        if isinstance(event, UserUttered):
            attachments = (event.metadata or {}).get("attachments") or []
            if event.text == ATTACH_DOCUMENT_TEXT and attachments:
                files = [{"filename": a.get("filename"), "content_type": a.get("content_type")} for a in attachments]
                history.append({"sender": "user", "files": files})
            else:
                history.append({"sender": "user", "text": titles.get(event.text or "", event.text or "")})
            titles = {}
        elif isinstance(event, BotUttered):
            recorder = _Recorder()
            data = {key: value for key, value in (event.data or {}).items() if value}
            await recorder.send_response("history", {**data, "text": event.text or ""})
            history += [{"sender": "bot", **message} for message in recorder.messages]
            titles.update({b.get("payload", ""): b.get("title", "") for b in data.get("buttons") or []})
    return history


def _session_id(requested: Any) -> Text:
    """The id the widget asks for when it has the right form, else a new one."""
    if isinstance(requested, str) and SESSION_ID.fullmatch(requested):
        return requested
    return uuid.uuid4().hex


def _custom_data(raw: Any) -> Tuple[Dict[Text, Any], bool]:
    """The customData of a widget event (an object, or JSON text as some widgets send it)
    checked by connectors.guard, and whether it was refused."""
    if isinstance(raw, str):
        try:
            raw = read_json(raw)
        except UnreadableJson:
            return {}, True
    screened = screen_metadata(raw)
    return screened.metadata, screened.problem is not None


def _conversation(session_id: Text) -> Text:
    return conversation_id("widget", session_id)


def _source(request: Request) -> Text:
    """connectors.guard.CLIENT_SOURCE of a message from the widget: its client's address."""
    return f"ip:{request.remote_addr or request.ip}"


def _auth_token(custom_data: Any) -> Optional[Text]:
    token = custom_data.get("auth_token") if isinstance(custom_data, dict) else None
    return token if isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_LENGTH else None


async def _bounded_body(request: Request, max_bytes: int) -> Tuple[bytes, bool]:
    """The streamed request body, and whether it went over `max_bytes` (the rest is read
    and dropped, so that the browser gets the answer)."""
    body, size = bytearray(), 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            return bytes(body), size > max_bytes
        size += len(chunk)
        if size <= max_bytes:
            body += chunk


async def _socket_session(sio: AsyncServer, socket_id: Any) -> Dict[Text, Any]:
    """The session saved with an open socket; {} for an unknown or closed one."""
    if not isinstance(socket_id, str):
        return {}
    try:
        return await sio.get_session(socket_id)
    except KeyError:
        return {}


def _refusal(status: int, code: Text, message: Text, headers: Optional[Dict[Text, Text]] = None) -> HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=status, headers=headers)


class WidgetInput(SocketIOInput):
    """Rasa's socket.io channel with working session persistence, the session token of the
    espace client, the checks of connectors.guard, and file uploads."""

    @classmethod
    def name(cls) -> Text:
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WidgetInput":
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
        )

    def get_output_channel(self) -> Optional[OutputChannel]:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> SocketBlueprint:
        # CORS headers are Rasa's (`--cors`): the engine.io server adds none of its own, and the
        # socket's origin is checked on `connect`.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], serializer=_BoundedPacket,
                          max_http_buffer_size=MAX_SOCKET_MESSAGE_BYTES)
        origins = allowed_origins()
        self.sio = sio
        webhook = SocketBlueprint(sio, self.socketio_path, "widget_webhook", __name__)
        webhook.listener("after_server_start")(prepare_rasa_server)
        rate_limiter()  # a bad RATE_LIMIT_* setting stops the server now
        upload_allowances(upload_max_bytes())  # and so does a bad UPLOAD_*_PER_* one

        def handshake(sid: Text) -> Request:
            """The HTTP request that opened the socket (its app, its client's address)."""
            return (sio.get_environ(sid) or {})["sanic.request"]

        async def tracker_events(sid: Text, session_id: Text) -> List[Any]:
            tracker = await handshake(sid).app.ctx.agent.tracker_store.retrieve(_conversation(session_id))
            return list(tracker.events) if tracker else []

        async def process(app: Any, message: UserMessage) -> None:
            """Runs the message through the assistant, with the typing indicator around it."""
            answer_when_actions_fail(app.ctx.agent)  # again after a model reload
            await sio.emit("bot_typing", True, room=message.sender_id)
            try:
                await on_new_message(message)
            except Exception:  # an upload's message runs as a task: nobody else would log it
                logger.exception("the widget message of a conversation failed")
            finally:
                await sio.emit("bot_typing", False, room=message.sender_id)

        def say(text: Text, session_id: Text, metadata: Dict[Text, Any], request: Request) -> UserMessage:
            """The message of the widget whose session is `session_id`; the replies go to the
            conversation's room."""
            return UserMessage(
                text, WidgetOutput(sio, self.bot_message_evt), _conversation(session_id),
                input_channel=self.name(), metadata={**metadata, CLIENT_SOURCE: _source(request)},
            )

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: Text, environ: Dict[Text, Any], auth: Any = None) -> bool:
            """A browser names the page that opens the socket: only the allowed sites' pages may."""
            origin = environ.get(ORIGIN_HEADER)
            if origin is not None and origin.lower().rstrip("/") not in origins:
                logger.info("widget socket refused: origin not allowed")
                return False
            return True

        @sio.on(UNREADABLE_EVENT)
        async def unreadable_message(sid: Text, *_: Any) -> None:
            await sio.emit(self.bot_message_evt, {"text": REFUSALS["metadata"]}, room=sid)

        @sio.on("session_request")
        async def session_request(sid: Text, data: Any = None, *_: Any) -> None:
            # Each one reads the conversation and replays its history: counted on the address's
            # messages, so that no client can have that done at will (one socket flooding them
            # held every channel's conversations for seconds).
            request = (sio.get_environ(sid) or {}).get("sanic.request")
            if request is None:  # the socket closed meanwhile
                return
            wait = await check_rate(ip=request.remote_addr or request.ip)
            if wait is not None:
                await sio.emit(self.bot_message_evt, {"text": too_many_messages(wait)}, room=sid)
                return
            data = data if isinstance(data, dict) else {}
            custom_data, refused = _custom_data(data.get("customData"))
            if refused:
                await sio.emit(self.bot_message_evt, {"text": REFUSALS["metadata"]}, room=sid)
                return
            session_id = _session_id(data.get("session_id"))
            previous = (await sio.get_session(sid)).get("session_id")
            if previous and previous != session_id:
                await sio.leave_room(sid, _conversation(previous))
            await sio.save_session(sid, {"session_id": session_id, "auth_token": _auth_token(custom_data)})
            # A coroutine since python-socketio 5.10; Rasa's channel does not await it (rasa#13027),
            # so its replies go to a room nobody is in.
            await sio.enter_room(sid, _conversation(session_id))
            await sio.emit("session_confirm", session_id, room=sid)
            await sio.emit("history", await conversation_history(await tracker_events(sid, session_id)), room=sid)

        @sio.on(self.user_message_evt)
        async def user_message(sid: Text, data: Any = None, *_: Any) -> None:
            session = await sio.get_session(sid)
            session_id = session.get("session_id")
            if session_id is None:  # the widget always opens a session first
                await sio.emit(self.bot_message_evt, {"text": WIDGET_REFUSALS["no_session"]}, room=sid)
                return
            request = handshake(sid)
            wait = await check_rate(ip=request.remote_addr or request.ip, sender=_conversation(session_id))
            if wait is not None:
                await sio.emit(self.bot_message_evt, {"text": too_many_messages(wait)}, room=sid)
                return
            data = data if isinstance(data, dict) else {}
            metadata, refused = _custom_data(data.get("customData"))
            if refused:
                await sio.emit(self.bot_message_evt, {"text": REFUSALS["metadata"]}, room=sid)
                return
            screened = screen_text(data.get("message"))
            if screened.refusal:
                await sio.emit(self.bot_message_evt, {"text": REFUSALS[screened.refusal]}, room=sid)
                return
            text = screened.text
            if text.startswith("/"):
                text = without_shortcut(text, offered_payloads(await tracker_events(sid, session_id)))
            # The message's own token when it is one (bounded), else the session's: never a
            # client's value the checks above refused.
            token = _auth_token(metadata) or session.get("auth_token")
            metadata.pop("auth_token", None)
            if token:
                metadata["auth_token"] = token
            await process(request.app, say(text, session_id, metadata, request))

        @webhook.route("/upload", methods=["POST"], stream=True)
        async def upload(request: Request) -> HTTPResponse:
            """A photo or PDF for the conversation `session_id`, sent by the widget whose socket
            is `socket_id` (multipart: `session_id`, `socket_id`, `file`). The assistant answers
            over socket.io; a refused file gets the reason and changes nothing."""
            address = request.remote_addr or request.ip
            wait = await check_rate(ip=address)
            if wait is not None:
                return _refusal(429, "too_many_requests", too_many_messages(wait), {"Retry-After": retry_after(wait)})
            body, too_large = await _bounded_body(request, upload_max_bytes() + MULTIPART_OVERHEAD)
            if too_large:
                return _refusal(413, "too_large", refusal_text("too_large"))
            request.body = body
            try:
                form, files = request.form, request.files
            except Exception:  # sanic raises on a malformed multipart body
                form, files = None, None
            if not (request.content_type or "").startswith("multipart/form-data") or form is None or files is None:
                return _refusal(400, "bad_request", WIDGET_REFUSALS["not_multipart"])
            upload = files.get("file")
            if upload is None:
                return _refusal(400, "bad_request", WIDGET_REFUSALS["no_file"])
            session_id, socket_id = form.get("session_id"), form.get("socket_id")
            session = await _socket_session(sio, socket_id)
            if not session_id or session.get("session_id") != session_id:
                return _refusal(409, "no_session", WIDGET_REFUSALS["no_session"])
            wait = await check_rate(sender=_conversation(session_id))
            if wait is not None:
                return _refusal(429, "too_many_requests", too_many_messages(wait), {"Retry-After": retry_after(wait)})

            sender = await file_sender(request.app.ctx.agent, _conversation(session_id), self.name(), address,
                                       session.get("auth_token"))
            received = await receive_file(upload.body, upload.type, upload.name, sender)
            if received.code == "not_taken":
                return _refusal(403, "not_taken", received.refusal)
            if received.code == "too_many_files":
                wait = received.retry_after or 1
                return _refusal(429, "too_many_files", received.refusal, {"Retry-After": retry_after(wait)})
            if not received.accepted:
                return _refusal(422, "file_refused", received.refusal)
            sent_with = {"auth_token": session["auth_token"]} if session.get("auth_token") else {}
            message = attach_document_message([received.attachment], sent_with)
            request.app.add_task(process(request.app, say(message["text"], session_id, message["metadata"], request)))
            return response.json({"attachment": received.attachment}, status=201)

        return webhook
