"""What the messaging-app channels (WhatsApp, Telegram, Messenger) share.

Their webhooks follow one pattern: check the platform's signature or secret on the
raw body, parse it, acknowledge at once (the platforms retry slow webhooks, and a
retry must not become a second message), and handle the messages in the background,
one conversation's messages in the order they arrived (each counted by the rate limit as
it arrives), through the channel pipeline (connectors.pipeline). Replies go out through the
platform's HTTP API, whose base URL is configurable (tests use a local fake).

With several Rasa replicas (Redis of connectors.shared_state), any replica may take any
webhook: a redelivered message is recognised by all (RecentIds), and one conversation's
messages keep their order across replicas (SharedOrder: a ticket taken when the webhook
arrives, the turn waited for before handling). While a turn runs the customer sees the
platform's « read » and « typing » signals (`while_busy`). What the channels answer by
themselves (a voice note, a sticker...) are domain responses (domain/channels.yml, `answer`).
"""

import asyncio
import hashlib
import hmac
import logging
import re
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text, Tuple, Union

import aiohttp
from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.constants import REQUESTED_SLOT
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.attachments import attach_document_message, file_sender, receive_file, upload_max_bytes
from connectors.deep_links import opening_message
from connectors.guard import UnreadableJson, conversation_id, read_json
from connectors.pipeline import Arrival, ChannelPipeline, Refusal, response_words
from connectors.recipients import recipients
from connectors.shared_state import KEY_PREFIX, SharedRedis, Unavailable, shared_redis
from connectors.upload_limits import upload_allowances
from core.settings import read

logger = logging.getLogger(__name__)

# Webhook bodies are small JSON documents (media come by reference, not inline).
MAX_WEBHOOK_BODY_BYTES = 256 * 1024
# Message ids remembered to drop the platforms' redeliveries: the last ones in each process,
# and those of the last day in Redis for every replica (the platforms redeliver within
# minutes a webhook that was not acknowledged, and this one acknowledges at once).
REMEMBERED_MESSAGE_IDS = 10_000
REDELIVERY_WINDOW_SECONDS = 24 * 3600
PLATFORM_TIMEOUT_SECONDS = 15
# The order of one conversation's messages across replicas: how long a message waits for the
# one before it (a replica that died holding its turn delays the next one this long, once),
# how often it looks, and how long an idle conversation's counters are kept.
ORDER_WAIT_SECONDS = 30.0
ORDER_POLL_SECONDS = 0.05
ORDER_KEY_SECONDS = 3600
# Ticket `ARGV[1]` done: the conversation's « done » counter moves up to it, never down.
_FINISH_SCRIPT = (
    "local done = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if done < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end "
    "return done"
)
# How long a turn waits for the platform to take its « read » or « typing » signal.
SIGNAL_WAIT_SECONDS = 2.0
# The claim declaration's form: a location sent meanwhile is the place of the loss.
CLAIM_FORM = "claim_form"
# The claim declaration's questions a contact card answers (a witness, the other driver).
CONTACT_CARD_QUESTIONS = ("claim_witnesses", "claim_third_party")
# A card's number as the platforms give it: digits, spaces, dots, dashes, brackets, a « + ».
_CARD_PHONE = re.compile(r"\+?[0-9][0-9 .()-]{5,24}")


def setting(credentials: Optional[Dict[Text, Any]], key: Text, variable: Text) -> Text:
    """A channel setting: from credentials.yml when given there, else the environment variable
    (declared in core.settings, with its default)."""
    value = (credentials or {}).get(key)
    return str(value) if value not in (None, "") else read(variable)


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


class SharedOrder:
    """One conversation's messages in arrival order across the replicas, in Redis: each message
    takes a ticket as its webhook arrives (`ticket`, an atomic counter), waits until the
    message before it is done (`wait_turn`), and says when it is (`finish`). Without Redis or
    while it fails: no ticket, each replica keeps its own order (InOrder). A ticket whose
    replica died is waited for ORDER_WAIT_SECONDS at most, then skipped."""

    def __init__(self, shared: Optional[SharedRedis] = _FROM_ENVIRONMENT,
                 wait_seconds: float = ORDER_WAIT_SECONDS) -> None:
        self._shared = shared_redis() if shared is _FROM_ENVIRONMENT else shared
        self._wait_seconds = wait_seconds

    @staticmethod
    def _keys(conversation: str) -> Tuple[str, str]:
        digest = hashlib.sha256(conversation.encode()).hexdigest()[:32]
        return f"{KEY_PREFIX}order:{digest}:next", f"{KEY_PREFIX}order:{digest}:done"

    async def ticket(self, conversation: str) -> Optional[int]:
        if self._shared is None or not self._shared.available():
            return None
        next_key, done_key = self._keys(conversation)

        async def take(client: Any) -> Any:
            async with client.pipeline(transaction=True) as steps:
                steps.incr(next_key).expire(next_key, ORDER_KEY_SECONDS).expire(done_key, ORDER_KEY_SECONDS)
                return (await steps.execute())[0]

        try:
            return int(await self._shared.run(take))
        except (Unavailable, TypeError, ValueError):
            return None

    async def wait_turn(self, conversation: str, ticket: int) -> None:
        _, done_key = self._keys(conversation)
        deadline = asyncio.get_running_loop().time() + self._wait_seconds
        while self._shared is not None and self._shared.available():
            try:
                done = int(await self._shared.run(lambda client: client.get(done_key)) or 0)
            except (Unavailable, TypeError, ValueError):
                return
            if done >= ticket - 1:
                return
            if asyncio.get_running_loop().time() >= deadline:
                logger.warning("a message waited %ss for the one before it: handled now", self._wait_seconds)
                return
            await asyncio.sleep(ORDER_POLL_SECONDS)

    async def finish(self, conversation: str, ticket: int) -> None:
        if self._shared is None or not self._shared.available():
            return
        _, done_key = self._keys(conversation)
        try:
            await self._shared.run(lambda client: client.eval(_FINISH_SCRIPT, 1, done_key, ticket, ORDER_KEY_SECONDS))
        except Unavailable:
            pass


class InOrder:
    """Runs work in the background, one conversation's work after the other in arrival order:
    in the process, and across the replicas with the tickets of `shared_order`."""

    def __init__(self, shared_order: Optional[SharedOrder] = _FROM_ENVIRONMENT) -> None:
        self._locks: Dict[str, asyncio.Lock] = {}
        self._pending: Dict[str, int] = {}
        self._tasks: Set[asyncio.Task] = set()
        self.shared_order = SharedOrder() if shared_order is _FROM_ENVIRONMENT else shared_order

    async def ticket(self, conversation: str) -> Optional[int]:
        """The message's place among the conversation's messages of every replica (None alone)."""
        return await self.shared_order.ticket(conversation) if self.shared_order is not None else None

    def submit(self, conversation: str, work: Callable[[], Awaitable[Any]], ticket: Optional[int] = None) -> None:
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        self._pending[conversation] = self._pending.get(conversation, 0) + 1
        task = asyncio.get_running_loop().create_task(self._run(conversation, lock, work, ticket))
        self._tasks.add(task)  # keeps a reference until done
        task.add_done_callback(self._tasks.discard)

    async def _run(self, conversation: str, lock: asyncio.Lock, work: Callable[[], Awaitable[Any]],
                   ticket: Optional[int] = None) -> None:
        try:
            async with lock:  # asyncio locks are fair: tasks get it in the order they asked
                if ticket is not None and self.shared_order is not None:
                    await self.shared_order.wait_turn(conversation, ticket)
                try:
                    await work()
                finally:
                    if ticket is not None and self.shared_order is not None:
                        await self.shared_order.finish(conversation, ticket)
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


async def queue_message(
    in_order: InOrder, pipeline: ChannelPipeline, secret: str, user_id: str,
    handle: Callable[[Arrival], Awaitable[Any]], conversation: Optional[str] = None,
) -> None:
    """Queues a platform user's message behind their earlier ones, as `handle(arrival)`: the
    message of the user's conversation (`conversation`, by default named by the pseudonym of
    `user_id`, the address replies go to), counted by the rate limit now, in the order the
    messages arrived at any replica."""
    sender = conversation or pseudonym(secret, pipeline.channel, user_id)
    ticket = await in_order.ticket(sender)
    arrival = asyncio.ensure_future(pipeline.arrive(sender))

    async def work() -> None:
        arrived = await arrival
        if arrived.refusal is None:  # where an adviser who takes the conversation over writes
            await recipients().remember(sender, pipeline.channel, user_id)
        await handle(arrived)

    in_order.submit(sender, work, ticket)


async def while_busy(signal: Callable[[], Awaitable[Any]], every_seconds: float, work: Awaitable[Any]) -> Any:
    """`work` awaited while the customer sees that their message is read and answered:
    `signal()` first (waited for SIGNAL_WAIT_SECONDS at most, so that it never comes after
    the reply), then every `every_seconds` (the platforms' typing indicators fade out) until
    the work is done. A failed signal is logged by the platform client, never raised."""
    try:
        await asyncio.wait_for(signal(), SIGNAL_WAIT_SECONDS)
    except asyncio.TimeoutError:
        pass

    async def keep_signalling() -> None:
        while True:
            await asyncio.sleep(every_seconds)
            await signal()

    signalling = asyncio.ensure_future(keep_signalling())
    try:
        return await work
    finally:
        signalling.cancel()


async def answer(pipeline: ChannelPipeline, output: OutputChannel, agent: Any, arrival: Arrival,
                 response: str, **values: Any) -> None:
    """Answers the customer with a response of the domain (domain/channels.yml), as the channel
    says it: what a channel answers by itself (a voice note, a sticker, a contact card...)."""
    words = response_words(agent, response, pipeline.channel, **values)
    if words:
        await output.send_text_message(arrival.conversation, words)


async def claim_question(agent: Any, conversation: str) -> Optional[str]:
    """The claim declaration's question being answered (its form's requested slot): None
    outside a declaration, "" between its questions."""
    store = getattr(agent, "tracker_store", None)
    tracker = await store.retrieve(conversation) if store is not None else None
    if tracker is None or tracker.active_loop_name != CLAIM_FORM:
        return None
    return tracker.get_slot(REQUESTED_SLOT) or ""


async def in_claim_declaration(agent: Any, conversation: str) -> bool:
    """Whether the conversation's claim declaration (its form) is in progress."""
    return await claim_question(agent, conversation) is not None


def contact_card_text(name: Any, phones: Any) -> Optional[str]:
    """A contact card as the customer would write it: « Jean Dupont, +33 6 12 34 56 78 » (the
    name and at most two numbers, as the card gives them); None without a name nor a number."""
    parts = [" ".join(name.split())[:100]] if isinstance(name, str) and name.strip() else []
    numbers = [phone for phone in phones if isinstance(phone, str) and _CARD_PHONE.fullmatch(phone.strip())] \
        if isinstance(phones, list) else []
    parts += [number.strip() for number in numbers[:2]]
    return ", ".join(parts) or None


async def handle_contact_cards(pipeline: ChannelPipeline, output: OutputChannel, agent: Any, arrival: Arrival,
                               cards: List[Tuple[Any, Any]], metadata: Dict[str, Any]) -> None:
    """Contact cards (each a name and its numbers): the answer when the claim declaration
    asks for its witnesses or the other person involved (« Jean Dupont, +33… et Paul Roy,
    06… »); anywhere else the channel says it does not read cards."""
    text = " et ".join(filter(None, (contact_card_text(name, phones) for name, phones in cards[:5])))
    if text and await claim_question(agent, arrival.conversation) in CONTACT_CARD_QUESTIONS:
        await handle_text(pipeline, output, agent, arrival, text, metadata)
        return
    await answer(pipeline, output, agent, arrival, "utter_channel_contact_card")


def location_text(latitude: Any, longitude: Any, name: Any = None, address: Any = None) -> Optional[str]:
    """A shared location as the claim form's place takes it: its name and address when the
    platform gives them, its GPS position; None when it holds no valid position nor address."""
    label = ", ".join(" ".join(str(part).split())[:200] for part in (name, address)
                      if isinstance(part, str) and part.strip())
    position = None
    if isinstance(latitude, (int, float)) and isinstance(longitude, (int, float)) \
            and not isinstance(latitude, bool) and not isinstance(longitude, bool) \
            and -90 <= latitude <= 90 and -180 <= longitude <= 180:
        position = f"position GPS {latitude:.5f}, {longitude:.5f}"
    if label and position:
        return f"{label} ({position})"
    if label or position:
        return label or position[0].upper() + position[1:]
    return None


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
        status, body = await self.post_answer(path, payload, params)
        return body if status is not None and status < 400 else None

    async def post_answer(self, path: str, payload: Dict[str, Any],
                          params: Optional[Dict[str, str]] = None) -> Tuple[Optional[int], Any]:
        """POSTs JSON; the answer's status and JSON (a refusal's too, which says why), or
        (None, None) when the platform could not be reached or did not answer JSON."""
        try:
            async with self._client().post(f"{self.base_url}{path}", json=payload, params=params) as answer:
                body = await answer.json(content_type=None)
                if answer.status >= 400:
                    logger.warning("platform API %s answered %s", _api_path(path), answer.status)
                return answer.status, body
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("platform API %s failed: %s", _api_path(path), type(error).__name__)
            return None, None

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
    pipeline: ChannelPipeline, output: OutputChannel, agent: Any, arrival: Arrival, raw_text: Any,
    metadata: Dict[str, Any],
) -> None:
    """A typed text or a pressed button, through the channel pipeline; refused, the customer
    is told why. `metadata`: what the channel itself knows (the verified phone number)."""
    refusal = await pipeline.receive(agent, arrival, output, raw_text, arrival.conversation,
                                     channel_metadata=metadata)
    if refusal is not None:
        await refuse(pipeline, output, agent, arrival, refusal)


# What became of a notice a platform was given (bot/notices.py): sent, a failure worth
# retrying, or a recipient the platform says it will never reach (blocked the bot, left
# the platform, outside what the platform allows): told by e-mail at once instead.
NOTICE_SENT, NOTICE_FAILED, RECIPIENT_GONE = None, "platform_error", "recipient_gone"


def meta_error(body: Any) -> Tuple[Optional[int], Optional[int]]:
    """The (code, error_subcode) of a Graph API error answer (WhatsApp, Messenger)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    code, subcode = error.get("code"), error.get("error_subcode")
    return (code if isinstance(code, int) else None), (subcode if isinstance(subcode, int) else None)


async def open_conversation(pipeline: ChannelPipeline, output: OutputChannel, agent: Any, arrival: Arrival,
                            parameter: Optional[str], metadata: Dict[str, Any]) -> bool:
    """The conversation opened from one of the insurer's links or a start button: the request
    the link names is served, else the assistant greets (connectors/deep_links.py). False:
    refused, and the customer told why."""
    refusal = await pipeline.receive(agent, arrival, output, opening_message(parameter), arrival.conversation,
                                     channel_metadata=metadata, composed=True)
    if refusal is not None:
        await refuse(pipeline, output, agent, arrival, refusal)
        return False
    return True


async def refuse(pipeline: ChannelPipeline, output: OutputChannel, agent: Any, arrival: Arrival,
                 refusal: Refusal) -> None:
    """Tells the customer why their message is not handled. (The webhook itself was
    acknowledged: a refusal would make the platform send it again.)"""
    await output.send_text_message(arrival.conversation, pipeline.words(agent, refusal))


async def handle_file(
    pipeline: ChannelPipeline,
    output: OutputChannel,
    agent: Any,
    arrival: Arrival,
    downloaded: Optional[Tuple[bytes, str]],
    declared_type: str,
    filename: str,
    metadata: Dict[str, Any],
) -> None:
    """A photo or a document: stored by the claims service and handed to the conversation,
    or refused with the reason."""
    sender = arrival.conversation
    if downloaded is None:
        await refuse(pipeline, output, agent, arrival, Refusal("file_not_received"))
        return
    content, served_type = downloaded
    # The files come from the platform's servers: the conversation (one user) is what counts.
    received_file = await receive_file(content, declared_type or served_type, filename,
                                       await file_sender(agent, sender, pipeline.channel))
    if not received_file.accepted:
        await refuse(pipeline, output, agent, arrival, received_file.refusal)
        return
    message = attach_document_message([received_file.attachment], metadata)
    refusal = await pipeline.receive(agent, arrival, output, message["text"], sender,
                                     channel_metadata=message["metadata"], composed=True)
    if refusal is not None:
        await refuse(pipeline, output, agent, arrival, refusal)
