"""What the messaging-app channels (WhatsApp, Telegram, Messenger) share.

Their webhooks follow one pattern: check the platform's signature or secret on the
raw body, parse it, acknowledge at once (the platforms retry slow webhooks, and a
retry must not become a second message), and handle the messages in the background,
one conversation's messages in the order they arrived. Replies go out through the
platform's HTTP API, whose base URL is configurable (tests use a local fake).
"""

import asyncio
import hashlib
import hmac
import logging
import os
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text, Tuple, Union

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.attachments import attach_document_message, file_sender, receive_file, upload_max_bytes
from connectors.guard import (
    CLIENT_SOURCE,
    REFUSALS,
    UnreadableJson,
    conversation_id,
    offered_payloads,
    read_json,
    screen_text,
    without_shortcut,
)
from connectors.rate_limit import check_rate, rate_limiter, refusal_text
from connectors.shared_state import KEY_PREFIX, SharedRedis, Unavailable, shared_redis
from connectors.upload_limits import upload_allowances
from server_extensions.action_endpoint import answer_when_actions_fail

logger = logging.getLogger(__name__)

# Webhook bodies are small JSON documents (media come by reference, not inline).
MAX_WEBHOOK_BODY_BYTES = 256 * 1024
# Message ids remembered to drop the platforms' redeliveries: the last ones in each process,
# and those of the last day in Redis for every replica (the platforms redeliver within
# minutes a webhook that was not acknowledged, and this one acknowledges at once).
REMEMBERED_MESSAGE_IDS = 10_000
REDELIVERY_WINDOW_SECONDS = 24 * 3600
PLATFORM_TIMEOUT_SECONDS = 15
FILE_NOT_RECEIVED = (
    "Je n'ai pas pu récupérer ce fichier. Renvoyez-le dans quelques instants, "
    "ou déposez-le dans votre espace client."
)


def setting(credentials: Optional[Dict[Text, Any]], key: Text, variable: Text, default: Text = "") -> Text:
    """A channel setting: from credentials.yml when given there, else the environment variable."""
    value = (credentials or {}).get(key)
    return str(value) if value not in (None, "") else os.environ.get(variable, default)


def same_secret(given: Optional[str], expected: str) -> bool:
    """Constant-time comparison; an unconfigured secret never matches."""
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def meta_signature_valid(raw_body: bytes, header: Optional[str], app_secret: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256="):].strip().lower().encode(), expected.encode())


def pseudonym(secret: str, platform: str, user_id: str) -> str:
    """The conversation id of a platform user, `<platform>:<digest>` (connectors.guard.
    conversation_id): stable, but not their number or account id."""
    digest = hmac.new(secret.encode(), f"{platform}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return conversation_id(platform, digest[:32])


def forbidden() -> HTTPResponse:
    return response.json({"error": {"code": "forbidden", "message": "Signature absente ou invalide."}}, status=403)


def bad_request(message: str) -> HTTPResponse:
    return response.json({"error": {"code": "bad_request", "message": message}}, status=400)


def too_large() -> HTTPResponse:
    return response.json(
        {"error": {"code": "payload_too_large", "message": "Le corps de la requête est trop volumineux."}},
        status=413,
    )


def received() -> HTTPResponse:
    return response.json({"status": "received"})


def webhook_blueprint(platform: str) -> Blueprint:
    """A platform's webhook blueprint, with its health check at `/`."""
    webhook = Blueprint(f"oyat_{platform}_webhook", __name__)
    rate_limiter()  # a bad RATE_LIMIT_* setting stops the server now
    upload_allowances(upload_max_bytes())  # and so does a bad UPLOAD_*_PER_* one

    @webhook.route("/", methods=["GET"])
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return webhook


def add_meta_subscription_check(webhook: Blueprint, verify_token: str) -> None:
    """`GET /webhook`: Meta's subscription check (`hub.mode=subscribe`, `hub.verify_token`),
    answered with `hub.challenge` echoed back."""

    @webhook.route("/webhook", methods=["GET"])
    async def verify_subscription(request: Request) -> HTTPResponse:
        if request.args.get("hub.mode") == "subscribe" and same_secret(
            request.args.get("hub.verify_token"), verify_token
        ):
            return response.text(request.args.get("hub.challenge", ""))
        return forbidden()


def webhook_body(request: Request, authentic: Callable[[bytes], bool]) -> Union[Dict[str, Any], HTTPResponse]:
    """The JSON object a webhook request carries, or the answer refusing it: too large (413),
    not `authentic` (403, checked on the raw body), not a JSON object or nested deeper than
    connectors.guard.MAX_BODY_DEPTH (400)."""
    raw = request.body or b""
    if len(raw) > MAX_WEBHOOK_BODY_BYTES:
        return too_large()
    if not authentic(raw):
        return forbidden()
    body = json_object(raw)
    if body is None:
        return bad_request("Le corps de la requête doit être un objet JSON.")
    return body


def json_object(raw_body: bytes) -> Optional[Dict[str, Any]]:
    """The body as a JSON object; None when malformed, not UTF-8, too deep or not an object."""
    try:
        value = read_json(raw_body)
    except UnreadableJson:
        return None
    return value if isinstance(value, dict) else None


def json_items(value: Any) -> List[Dict[str, Any]]:
    """The objects of a JSON array (anything else: none)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def shortened(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, an ellipsis showing the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int) -> List[str]:
    """`text` in pieces of at most `limit` characters, cut at a line end or a space when possible."""
    pieces: List[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit + 1), text.rfind(" ", 0, limit + 1))
        if cut <= limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not pieces:
        pieces.append(text)
    return pieces


_FROM_ENVIRONMENT: Any = object()


class RecentIds:
    """The message ids a platform sent lately, so that a redelivered message is recognised,
    whichever replica it reaches: in Redis for REDELIVERY_WINDOW_SECONDS (a key set only if
    absent, atomic), when `shared` (by default the Redis of the environment,
    connectors.shared_state); in any case the last `size` ids in the process, which is all
    there is without Redis or while it fails."""

    def __init__(self, platform: str, size: int = REMEMBERED_MESSAGE_IDS,
                 shared: Optional[SharedRedis] = _FROM_ENVIRONMENT) -> None:
        self._prefix = f"{KEY_PREFIX}seen:{platform}:"
        self._shared = shared_redis() if shared is _FROM_ENVIRONMENT else shared
        self._size = size
        self._ids: "OrderedDict[str, None]" = OrderedDict()

    async def first_time(self, message_id: Any) -> bool:
        """True the first time an id is seen (and for messages without an id)."""
        if not isinstance(message_id, (str, int)) or message_id == "":
            return True
        key = str(message_id)
        if not self._first_time_here(key):
            return False
        if self._shared is not None and self._shared.available():
            # Hashed: a key of bounded length whatever the platform's id.
            shared_key = self._prefix + hashlib.sha256(key.encode()).hexdigest()[:32]
            try:
                return bool(await self._shared.run(
                    lambda client: client.set(shared_key, 1, nx=True, ex=REDELIVERY_WINDOW_SECONDS)))
            except Unavailable:
                pass
        return True

    def _first_time_here(self, key: str) -> bool:
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


class InOrder:
    """Runs work in the background, one conversation's work after the other in arrival order."""

    def __init__(self) -> None:
        self._locks: Dict[str, asyncio.Lock] = {}
        self._pending: Dict[str, int] = {}
        self._tasks: Set[asyncio.Task] = set()

    def submit(self, conversation: str, work: Callable[[], Awaitable[Any]]) -> None:
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        self._pending[conversation] = self._pending.get(conversation, 0) + 1
        task = asyncio.get_running_loop().create_task(self._run(conversation, lock, work))
        self._tasks.add(task)  # keeps a reference until done
        task.add_done_callback(self._tasks.discard)

    async def _run(self, conversation: str, lock: asyncio.Lock, work: Callable[[], Awaitable[Any]]) -> None:
        try:
            async with lock:  # asyncio locks are fair: tasks get it in the order they asked
                await work()
        except Exception:  # one failed message must not stop the channel
            logger.exception("handling a message failed")
        finally:
            self._pending[conversation] -= 1
            if not self._pending[conversation]:
                del self._pending[conversation], self._locks[conversation]

    async def drain(self) -> None:
        """Waits for the work submitted so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def queue_message(
    in_order: InOrder, secret: str, platform: str, user_id: str,
    handle: Callable[[str, Optional[float]], Awaitable[Any]],
) -> None:
    """Queues a platform user's message behind their earlier ones, as `handle(sender, wait)`:
    `sender` is the user's pseudonym, `wait` None or the seconds the rate limit asks them to
    wait (counted from now, in the order the messages arrived)."""
    sender = pseudonym(secret, platform, user_id)
    wait = asyncio.ensure_future(check_rate(sender=sender))

    async def work() -> None:
        await handle(sender, await wait)

    in_order.submit(sender, work)


async def text_for_nlu(agent: Any, sender: str, text: str) -> str:
    """The `/intent` shortcut is kept only for a payload the assistant offered in its last answer."""
    if not text.startswith("/"):
        return text
    return without_shortcut(text, await last_offered_payloads(agent, sender))


async def last_offered_payloads(agent: Any, sender: str) -> Set[str]:
    tracker = await agent.tracker_store.retrieve(sender) if agent is not None else None
    return offered_payloads(tracker.events if tracker else [])


class PlatformApi:
    """HTTP client of one platform's API, with timeouts; failures are logged, never raised."""

    def __init__(self, base_url: str, headers: Optional[Dict[str, str]] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = headers or {}
        self._session: Optional[aiohttp.ClientSession] = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=PLATFORM_TIMEOUT_SECONDS), headers=self._headers
            )
        return self._session

    async def post(self, path: str, payload: Dict[str, Any], params: Optional[Dict[str, str]] = None) -> Optional[Any]:
        """POSTs JSON; the answer's JSON, or None when the platform failed or refused."""
        try:
            async with self._client().post(f"{self.base_url}{path}", json=payload, params=params) as answer:
                body = await answer.json(content_type=None)
                if answer.status >= 400:
                    logger.warning("platform API %s answered %s", _api_path(path), answer.status)
                    return None
                return body
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("platform API %s failed: %s", _api_path(path), type(error).__name__)
            return None

    async def get_json(self, path: str) -> Optional[Any]:
        try:
            async with self._client().get(f"{self.base_url}{path}") as answer:
                return await answer.json(content_type=None) if answer.status < 400 else None
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("platform API %s failed: %s", _api_path(path), type(error).__name__)
            return None

    async def download(self, url: str) -> Optional[Tuple[bytes, str]]:
        """A file's bytes and content type, None when unreachable. Reading stops one byte past
        the upload limit: enough for the refusal to say the file is too large."""
        try:
            async with self._client().get(url) as answer:
                if answer.status >= 400:
                    logger.warning("media download answered %s", answer.status)
                    return None
                limit, chunks, size = upload_max_bytes(), [], 0
                async for chunk in answer.content.iter_chunked(64 * 1024):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        break
                return b"".join(chunks), answer.headers.get("Content-Type", "")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("media download failed: %s", type(error).__name__)
            return None


class PlatformOutput(OutputChannel):
    """What the platforms' output channels share: buttons and quick replies go the same way,
    a document (the attestation) as the platform's file message."""

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, str):
            attachment = {"url": attachment}
        await self.send_custom_json(recipient_id, {"document": attachment})

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        """`{"document": {"url", "filename"?}}` (the attestation) goes as a file; nothing else is sent."""
        document = json_message.get("document")
        if not isinstance(document, dict) or not document.get("url"):
            logger.info("custom message without a document: not sent on %s", self.name())
            return
        await self.send_document(document)

    async def send_document(self, document: Dict[Text, Any]) -> None:
        raise NotImplementedError


def _api_path(path: str) -> str:
    """The API method for logs, without ids or tokens."""
    return path.rstrip("/").rsplit("/", 1)[-1]


async def handle_text(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    output: OutputChannel,
    agent: Any,
    sender: str,
    input_channel: str,
    raw_text: Any,
    metadata: Dict[str, Any],
) -> None:
    """A typed text or a pressed button: refused politely when empty or oversized, else to Rasa."""
    screened = screen_text(raw_text)
    if screened.refusal:
        await output.send_text_message(sender, REFUSALS[screened.refusal])
        return
    text = await text_for_nlu(agent, sender, screened.text)
    _apologize_when_actions_fail(agent)
    await on_new_message(UserMessage(
        text, output, sender, input_channel=input_channel, metadata=with_source(metadata, sender)
    ))


def with_source(metadata: Dict[str, Any], sender: str) -> Dict[str, Any]:
    """The message's source (connectors.guard.CLIENT_SOURCE): the platform user, by the
    pseudonym that names their conversation."""
    return {**metadata, CLIENT_SOURCE: sender}


async def refuse_too_many(output: OutputChannel, sender: str, wait_seconds: float) -> None:
    """A message over the sender's rate limit is not handled: the customer is told to wait.
    (The webhook itself was acknowledged: a refusal would make the platform send it again.)"""
    await output.send_text_message(sender, refusal_text(wait_seconds))


def _apologize_when_actions_fail(agent: Any) -> None:
    if agent is not None:
        answer_when_actions_fail(agent)  # again after a model reload, as the other channels do


async def handle_file(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    output: OutputChannel,
    agent: Any,
    sender: str,
    input_channel: str,
    downloaded: Optional[Tuple[bytes, str]],
    declared_type: str,
    filename: str,
    metadata: Dict[str, Any],
) -> None:
    """A photo or a document: stored by the claims service and handed to the conversation,
    or refused with the reason."""
    if downloaded is None:
        await output.send_text_message(sender, FILE_NOT_RECEIVED)
        return
    content, served_type = downloaded
    # The files come from the platform's servers: the conversation (one user) is what counts.
    received_file = await receive_file(content, declared_type or served_type, filename,
                                       await file_sender(agent, sender, input_channel))
    if not received_file.accepted:
        await output.send_text_message(sender, received_file.refusal)
        return
    message = attach_document_message([received_file.attachment], metadata)
    _apologize_when_actions_fail(agent)
    await on_new_message(UserMessage(
        message["text"], output, sender, input_channel=input_channel,
        metadata=with_source(message["metadata"], sender),
    ))
