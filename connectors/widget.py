"""The web widget's channel: socket.io at `/socket.io`, file uploads at `/webhooks/widget/upload`.

Events between the widget and the server (Rasa's socket.io shapes, so any socket.io chat
client can talk to it):
- `session_request` {"session_id": <id or null>, "customData": {"auth_token": <JWT>}} →
  `session_confirm` <id>, then `history` [<message>...]: the conversation so far, so that a
  reloaded page shows it again. Messages of the history carry `"sender": "user" | "bot"`.
  Counted with the messages of its client's address (connectors.pipeline): beyond, a
  polite `bot_uttered` and no session.
- `user_uttered` {"message": "..."} → `bot_typing` true, `bot_uttered` <message>...,
  `bot_typing` false. A message has `text`, `quick_replies`, `attachment` (image or file)
  or `custom`. Empty, oversized or too frequent messages get a polite `bot_uttered` and
  never reach the NLU (connectors.pipeline: its refusals are domain responses).
- `POST /webhooks/widget/upload`, multipart `session_id`, `socket_id` (the widget's socket)
  and `file` → 201 {"attachment": ...}, the assistant's answer coming over socket.io; or
  4xx {"error": {"code", "message"}}, the message the reason's domain response (never the
  claims service's own words: its ErrorCode maps to a response), the conversation untouched
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
connectors.guard.MAX_BODY_DEPTH levels deep, and `customData` is screened by the channel
pipeline; beyond, a polite refusal and nothing processed.

Several Rasa replicas (REDIS_HOST set, the production configuration): the socket.io server
shares its emits through python-socketio's Redis manager (the lock store's Redis, database
1 as connectors.shared_state), so that a message for a conversation's room (an adviser's,
sent from bot.advisers by whichever replica the console reached) reaches its sockets
wherever they are connected.

Only pages of the allowed origins (WIDGET_ALLOWED_ORIGINS, which the Rasa server's `--cors`
lists too) may open a socket: a browser sends its page's origin, and a socket opened from
another site is refused.
"""

import json
import logging
import re
import uuid
from typing import Any, Dict, Iterable, List, Mapping, Optional, Text, Tuple

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer
from socketio.packet import BINARY_EVENT, EVENT, Packet

from connectors.attachments import (
    ATTACH_DOCUMENT_TEXT,
    NOT_TAKEN,
    TOO_MANY_FILES,
    attach_document_message,
    file_refusal,
    file_sender,
    receive_file,
    upload_max_bytes,
)
from connectors.guard import UnreadableJson, allowed_origins, conversation_id, read_json
from connectors.pipeline import ChannelPipeline, Handler, PipelineChannel, Refusal
from connectors.rate_limit import retry_after
from connectors.shared_state import REDIS_DATABASE
from connectors.upload_limits import upload_allowances
from connectors.widget_presence import widget_presence
from core.service_contract import ErrorCode
from core.settings import read

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
# The Redis channel the replicas' socket.io servers share their emits on.
SOCKET_IO_CHANNEL = "oyat:widget:socketio"
# Every emit is published: a Redis that does not answer must not hold the widget's replies
# for long (they still reach the sockets of this replica).
REDIS_CONNECT_TIMEOUT_SECONDS = 1.0


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

    async def send_adviser_text(self, recipient_id: Text, text: Text, adviser: Text) -> None:
        """An adviser's words (bot.advisers), shown with their name."""
        await self._send_message(recipient_id, {"text": text, "adviser": adviser})


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
            adviser = (event.metadata or {}).get("adviser")
            if adviser:  # an adviser's words (bot.advisers)
                history.append({"sender": "bot", "text": event.text or "", "adviser": adviser})
                continue
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


class WidgetInput(PipelineChannel, SocketIOInput):
    """Rasa's socket.io channel with working session persistence, the session token of the
    espace client, file uploads, through the channel pipeline."""

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

    def around_assistant(self, on_new_message: Handler) -> Handler:
        """The typing indicator while the assistant answers."""

        async def with_typing_indicator(message: UserMessage) -> None:
            await self.sio.emit("bot_typing", True, room=message.sender_id)
            try:
                await on_new_message(message)
            except Exception:  # an upload's message runs as a task: nobody else would log it
                logger.exception("the widget message of a conversation failed")
            finally:
                await self.sio.emit("bot_typing", False, room=message.sender_id)

        return with_typing_indicator

    def routes(self, pipeline: ChannelPipeline) -> SocketBlueprint:
        # CORS headers are Rasa's (`--cors`): the engine.io server adds none of its own, and the
        # socket's origin is checked on `connect`.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], serializer=_BoundedPacket,
                          max_http_buffer_size=MAX_SOCKET_MESSAGE_BYTES, client_manager=socket_client_manager())
        self.sio = sio
        upload_allowances(upload_max_bytes())  # a bad UPLOAD_*_PER_* setting stops the server now
        widget = _Widget(sio, pipeline, self.bot_message_evt, allowed_origins())
        webhook = SocketBlueprint(sio, self.socketio_path, "widget_webhook", __name__)
        webhook.route("/", methods=["GET"])(health)

        async def upload(request: Request) -> HTTPResponse:  # sanic marks a streamed route's function
            return await widget.upload(request)

        webhook.route("/upload", methods=["POST"], stream=True)(upload)
        sio.on("connect", widget.connect)
        sio.on(UNREADABLE_EVENT, widget.unreadable_message)
        sio.on("session_request", widget.session_request)
        sio.on(self.user_message_evt, widget.user_message)
        sio.on("disconnect", widget.disconnect)
        return webhook


def socket_client_manager(environ: Optional[Mapping[str, str]] = None) -> Optional[AsyncRedisManager]:
    """The Redis manager sharing the emits of every replica's socket.io server when REDIS_HOST
    is set (REDIS_PORT, REDIS_PASSWORD); None otherwise (one process: its own rooms)."""
    host = read("REDIS_HOST", environ)
    if not host:
        return None
    options: Dict[Text, Any] = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS}
    if read("REDIS_PASSWORD", environ):
        options["password"] = read("REDIS_PASSWORD", environ)
    return AsyncRedisManager(f"redis://{host}:{read('REDIS_PORT', environ)}/{REDIS_DATABASE}",
                             channel=SOCKET_IO_CHANNEL, redis_options=options)


async def health(_: Request) -> HTTPResponse:
    return response.json({"status": "ok"})


class _Widget:
    """The widget's events and uploads, on one socket.io server."""

    def __init__(self, sio: AsyncServer, pipeline: ChannelPipeline, bot_message_evt: Text,
                 origins: Tuple[Text, ...]) -> None:
        self.sio = sio
        self.pipeline = pipeline
        self.bot_message_evt = bot_message_evt
        self.origins = origins

    # --- socket.io events ---------------------------------------------------------------

    async def connect(self, sid: Text, environ: Dict[Text, Any], auth: Any = None) -> bool:
        """A browser names the page that opens the socket: only the allowed sites' pages may."""
        origin = environ.get(ORIGIN_HEADER)
        if origin is not None and origin.lower().rstrip("/") not in self.origins:
            logger.info("widget socket refused: origin not allowed")
            return False
        return True

    async def unreadable_message(self, sid: Text, *_: Any) -> None:
        await self.refuse(sid, Refusal("metadata"))

    async def session_request(self, sid: Text, data: Any = None, *_: Any) -> None:
        """Opens (or reopens) the widget's conversation on this socket, with its history."""
        request = self.handshake(sid)
        if request is None:  # the socket closed meanwhile
            return
        # Each one reads the conversation and replays its history: counted on the address's
        # messages, so that no client can have that done at will (one socket flooding them
        # held every channel's conversations for seconds).
        refusal = await self.pipeline.check_address(_address(request))
        data = data if isinstance(data, dict) else {}
        custom_data, refused = self.pipeline.client_metadata(data.get("customData"))
        if refusal is not None or refused is not None:
            await self.refuse(sid, refusal or refused)
            return
        session_id = _session_id(data.get("session_id"))
        previous = (await self.sio.get_session(sid)).get("session_id")
        if previous and previous != session_id:
            await self.sio.leave_room(sid, _conversation(previous))
            await widget_presence().leave(_conversation(previous), sid)
        await self.sio.save_session(sid, {"session_id": session_id, "auth_token": _auth_token(custom_data)})
        # A coroutine since python-socketio 5.10; Rasa's channel does not await it (rasa#13027),
        # so its replies go to a room nobody is in.
        await self.sio.enter_room(sid, _conversation(session_id))
        await widget_presence().arrive(_conversation(session_id), sid)  # for claim notices, any replica
        await self.sio.emit("session_confirm", session_id, room=sid)
        await self.sio.emit("history", await self.history(request, session_id), room=sid)

    async def disconnect(self, sid: Text, *_: Any) -> None:
        """The page closed: its conversation no longer has this socket (claim notices)."""
        try:
            session_id = (await self.sio.get_session(sid)).get("session_id")
        except KeyError:
            return
        if session_id:
            await widget_presence().leave(_conversation(session_id), sid)

    async def user_message(self, sid: Text, data: Any = None, *_: Any) -> None:
        """A message typed in the widget, for the conversation of its socket's session."""
        session = await self.sio.get_session(sid)
        session_id = session.get("session_id")
        if session_id is None:  # the widget always opens a session first
            await self.refuse(sid, Refusal("no_session"))
            return
        request = self.handshake(sid)
        if request is None:  # the socket closed meanwhile
            return
        arrival = await self.pipeline.arrive(_conversation(session_id), _address(request))
        data = data if isinstance(data, dict) else {}
        metadata, refusal = self.pipeline.client_metadata(data.get("customData"))
        refusal = arrival.refusal or refusal
        if refusal is None:
            # The message's own token when it is one (bounded), else the session's: never a
            # client's value the checks refused.
            token = _auth_token(metadata) or session.get("auth_token")
            metadata.pop("auth_token", None)
            refusal = await self.pipeline.receive(
                request.app.ctx.agent, arrival, self.output(), data.get("message"), _source(request),
                client_metadata=metadata, channel_metadata={"auth_token": token} if token else {})
        if refusal is not None:
            await self.refuse(sid, refusal)

    # --- file uploads -------------------------------------------------------------------

    async def upload(self, request: Request) -> HTTPResponse:
        """A photo or PDF for the conversation `session_id`, sent by the widget whose socket
        is `socket_id` (multipart: `session_id`, `socket_id`, `file`). The assistant answers
        over socket.io; a refused file gets the reason and changes nothing."""
        agent = request.app.ctx.agent
        refusal = await self.pipeline.check_address(_address(request))
        if refusal is not None:
            return self.refused(agent, refusal)
        body, too_large = await _bounded_body(request, upload_max_bytes() + MULTIPART_OVERHEAD)
        if too_large:
            return _refusal(413, "too_large", self.pipeline.words(agent, file_refusal(ErrorCode.too_large)))
        upload, form = _multipart_file(request, body)
        if upload is None:
            return self.refused(agent, Refusal("not_multipart" if form is None else "no_file"))
        session_id, socket_id = form.get("session_id"), form.get("socket_id")
        session = await _socket_session(self.sio, socket_id)
        if not session_id or session.get("session_id") != session_id:
            return self.refused(agent, Refusal("no_session"))
        arrival = await self.pipeline.arrive(_conversation(session_id))
        if arrival.refusal is not None:
            return self.refused(agent, arrival.refusal)

        sender = await file_sender(agent, arrival.conversation, self.pipeline.channel, _address(request),
                                   session.get("auth_token"))
        received = await receive_file(upload.body, upload.type, upload.name, sender)
        if not received.accepted:
            return _file_refused(received, self.pipeline.words(agent, received.refusal))
        sent_with = {"auth_token": session["auth_token"]} if session.get("auth_token") else {}
        message = attach_document_message([received.attachment], sent_with)
        request.app.add_task(self.pipeline.receive(
            agent, arrival, self.output(), message["text"], _source(request),
            channel_metadata=message["metadata"], composed=True))
        return response.json({"attachment": received.attachment}, status=201)

    # --- helpers ------------------------------------------------------------------------

    def handshake(self, sid: Text) -> Optional[Request]:
        """The HTTP request that opened the socket (its app, its client's address); None once closed."""
        return (self.sio.get_environ(sid) or {}).get("sanic.request")

    def output(self) -> WidgetOutput:
        """Replies go to the conversation's room (every socket of its session)."""
        return WidgetOutput(self.sio, self.bot_message_evt)

    async def history(self, request: Request, session_id: Text) -> List[Dict[Text, Any]]:
        tracker = await request.app.ctx.agent.tracker_store.retrieve(_conversation(session_id))
        return await conversation_history(tracker.events if tracker else [])

    async def refuse(self, sid: Text, refusal: Refusal) -> None:
        """The refusal's words, to this socket only."""
        request = self.handshake(sid)
        agent = request.app.ctx.agent if request is not None else None
        await self.sio.emit(self.bot_message_evt, {"text": self.pipeline.words(agent, refusal)}, room=sid)

    def refused(self, agent: Any, refusal: Refusal) -> HTTPResponse:
        """An upload refused by the pipeline: its words as the error's message."""
        words = self.pipeline.words(agent, refusal)
        if refusal.code == "too_many_messages":
            return _refusal(429, "too_many_requests", words, {"Retry-After": retry_after(refusal.wait_seconds or 0)})
        if refusal.code == "no_session":
            return _refusal(409, "no_session", words)
        return _refusal(400, "bad_request", words)


def _address(request: Request) -> Text:
    return request.remote_addr or request.ip


def _multipart_file(request: Request, body: bytes) -> Tuple[Any, Any]:
    """(the uploaded `file`, the form) of a multipart body; the form is None when the body is
    not multipart/form-data or cannot be read."""
    request.body = body
    try:
        form, files = request.form, request.files
    except Exception:  # sanic raises on a malformed multipart body
        form, files = None, None
    if not (request.content_type or "").startswith("multipart/form-data") or form is None or files is None:
        return None, None
    return files.get("file"), form


def _file_refused(received: Any, words: Text) -> HTTPResponse:
    """A file the claims service or the allowances refused (connectors.attachments), `words`
    telling why."""
    if received.code == NOT_TAKEN:
        return _refusal(403, "not_taken", words)
    if received.code == TOO_MANY_FILES:
        return _refusal(429, "too_many_files", words, {"Retry-After": retry_after(received.retry_after or 1)})
    return _refusal(422, "file_refused", words)
