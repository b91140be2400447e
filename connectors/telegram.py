"""Telegram channel: `POST /webhooks/telegram/webhook`.

- Refused with 403 unless the header `X-Telegram-Bot-Api-Secret-Token` is the secret
  given to Telegram with `setWebhook(secret_token=...)`; nothing else is asked of the
  Telegram API to trust an update (no call per update).
- Private chats only. Texts; inline-keyboard presses (`callback_query`, answered so
  that the button stops spinning); photos and documents, downloaded with `getFile` and
  attached to the claim in progress; a location or a venue is the place of the loss during
  a claim declaration, others' contact cards its witnesses or the other person when it asks
  for them; voice notes, audio, videos, video notes, stickers, other contact cards and
  unsupported messages are answered by the channel (domain/channels.yml); an
  edited message is answered with what is done with edits (nothing: it is not read again);
  reactions and other updates are acknowledged and ignored; an update Telegram delivers
  twice is handled once. While a message is handled, « typing… » shows (`sendChatAction`).
- `/start` greets; with a deep-link parameter (kept as metadata `telegram_start`) naming a
  request, that request is served at once (connectors/deep_links.py); either way it offers
  a « Partager mon numéro » button (`request_contact`): the contact it sends, when its
  `user_id` is the sender's, is the customer's phone number as Telegram verified it,
  passed with every later message as metadata `channel_phone` (E.164), so that
  identification asks the birth date and the SMS code only, as on WhatsApp.
- The webhook is registered with `python -m connectors.telegram_webhook set --url …`
  (setWebhook with the secret token).
- Replies with `sendMessage` (split at 4096 characters, buttons as an inline keyboard),
  `sendPhoto` and `sendDocument` (the attestation PDF).

Settings (credentials.yml keys, else environment variables): `bot_token`
(TELEGRAM_BOT_TOKEN), `secret_token` (TELEGRAM_SECRET_TOKEN), `api_url`
(TELEGRAM_API_URL, default https://api.telegram.org).
"""

import functools
import hashlib
import logging
import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.messaging import (
    NOTICE_FAILED,
    NOTICE_SENT,
    RECIPIENT_GONE,
    InOrder,
    PlatformApi,
    PlatformOutput,
    RecentIds,
    answer,
    handle_contact_cards,
    handle_file,
    handle_text,
    in_claim_declaration,
    location_text,
    open_conversation,
    queue_message,
    received,
    refuse,
    same_secret,
    setting,
    split_text,
    webhook_blueprint,
    webhook_body,
    while_busy,
)
from connectors.pipeline import Arrival, ChannelPipeline, PipelineChannel, offered_payloads_of, response_words
from connectors.recipients import KEPT_WITHOUT_WINDOW_SECONDS
from connectors.shared_state import KEY_PREFIX, SharedRedis, Unavailable, shared_redis
from core.settings import default

logger = logging.getLogger(__name__)

DEFAULT_API_URL = default("TELEGRAM_API_URL")
TEXT_LIMIT = 4096
# Telegram carries at most 64 bytes of callback data; longer payloads go by digest.
CALLBACK_DATA_LIMIT = 64
DIGEST_PREFIX = "#"
_FILE_PATH = re.compile(r"[A-Za-z0-9_./-]{1,200}")  # matched whole (fullmatch)
# `/start`, `/start@bot_name`, and the deep-link parameter (up to 64 of A-Z a-z 0-9 _ -).
_START = re.compile(r"/start(?:@\w{1,64})?(?:\s+([A-Za-z0-9_-]{1,64}))?\s*")
_PHONE = re.compile(r"\+[1-9][0-9]{7,14}")  # E.164, matched whole
# « typing… » shows five seconds, or until the bot's message: renewed meanwhile.
CHAT_ACTION_RENEWAL_SECONDS = 4
# What the channel answers by itself, by the message's field.
CHANNEL_ANSWERS = {
    "voice": "utter_channel_voice_message",
    "audio": "utter_channel_voice_message",
    "video": "utter_channel_video",
    "video_note": "utter_channel_video",
    "animation": "utter_channel_video",
    "sticker": "utter_channel_sticker",
}
START_METADATA = "telegram_start"
# Without Redis, the shared numbers a process remembers (the most recent).
REMEMBERED_IN_PROCESS = 100_000


def telegram_phone(number: Any) -> Optional[str]:
    """A contact's phone number as Telegram gives it (digits, with or without « + »), in E.164."""
    if not isinstance(number, str):
        return None
    number = re.sub(r"[\s().-]", "", number)
    number = number if number.startswith("+") else f"+{number}"
    return number if _PHONE.fullmatch(number) else None


class VerifiedPhones:
    """The phone number each Telegram conversation's customer shared from their own account
    (Telegram verified it), for as long as connectors.recipients keeps a Telegram address: in
    the replicas' Redis (connectors.shared_state), in the process without it."""

    def __init__(self, shared: Optional[SharedRedis] = None) -> None:
        self._shared = shared
        self._here: Dict[str, str] = {}

    @staticmethod
    def _key(conversation: str) -> str:
        return f"{KEY_PREFIX}telegram-phone:{hashlib.sha256(conversation.encode()).hexdigest()[:32]}"

    async def remember(self, conversation: str, phone: str) -> None:
        self._here.pop(conversation, None)
        self._here[conversation] = phone
        if len(self._here) > REMEMBERED_IN_PROCESS:  # the oldest forgotten
            del self._here[next(iter(self._here))]
        if self._shared is not None and self._shared.available():
            try:
                await self._shared.run(lambda client: client.set(
                    self._key(conversation), phone, ex=KEPT_WITHOUT_WINDOW_SECONDS))
            except Unavailable:
                pass

    async def find(self, conversation: str) -> Optional[str]:
        if self._shared is not None and self._shared.available():
            try:
                stored = await self._shared.run(lambda client: client.get(self._key(conversation)))
                if stored:
                    return stored.decode() if isinstance(stored, bytes) else str(stored)
            except Unavailable:
                pass
        return self._here.get(conversation)


def callback_data(payload: str) -> str:
    """The payload itself when it fits in Telegram's callback data, else a digest of it."""
    if len(payload.encode()) <= CALLBACK_DATA_LIMIT and not payload.startswith(DIGEST_PREFIX):
        return payload
    return DIGEST_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:32]


class TelegramOutput(PlatformOutput):
    """Replies to one Telegram chat."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self, api: PlatformApi, bot_path: str, chat_id: int) -> None:
        self.api = api
        self.bot_path = bot_path
        self.chat_id = chat_id

    async def _call(self, method: str, payload: Dict[str, Any]) -> None:
        await self.api.post(f"{self.bot_path}/{method}", {"chat_id": self.chat_id, **payload})

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for piece in split_text(text, TEXT_LIMIT):
            await self._call("sendMessage", {"text": piece})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        pieces = split_text(text, TEXT_LIMIT)
        for piece in pieces[:-1]:
            await self._call("sendMessage", {"text": piece})
        keyboard = [[{"text": str(b.get("title", "")), "callback_data": callback_data(str(b["payload"]))}]
                    for b in buttons if b.get("payload")]
        await self._call("sendMessage", {"text": pieces[-1], "reply_markup": {"inline_keyboard": keyboard}})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._call("sendPhoto", {"photo": image})

    async def send_document(self, document: Dict[Text, Any]) -> None:
        """Telegram fetches the PDF from its URL and sends it."""
        await self._call("sendDocument", {"document": document["url"]})

    async def typing(self) -> None:
        await self._call("sendChatAction", {"action": "typing"})

    async def offer_phone_sharing(self, text: str, button: str) -> None:
        """`text` with a one-time keyboard button that shares the account's phone number."""
        await self._call("sendMessage", {"text": text, "reply_markup": {
            "keyboard": [[{"text": button, "request_contact": True}]],
            "resize_keyboard": True, "one_time_keyboard": True}})

    async def send_text_closing_keyboard(self, text: str) -> None:
        """`text`, and the phone-sharing keyboard taken away."""
        await self._call("sendMessage", {"text": text, "reply_markup": {"remove_keyboard": True}})


class TelegramInput(PipelineChannel):
    """The Telegram bot webhook."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(
            bot_token=setting(credentials, "bot_token", "TELEGRAM_BOT_TOKEN"),
            secret_token=setting(credentials, "secret_token", "TELEGRAM_SECRET_TOKEN"),
            api_url=setting(credentials, "api_url", "TELEGRAM_API_URL"),
        )

    def __init__(self, bot_token: str, secret_token: str, api_url: str = DEFAULT_API_URL) -> None:
        self.bot_token = bot_token
        self.secret_token = secret_token
        self.api = PlatformApi(api_url)
        self.bot_path = f"/bot{bot_token}"
        self.seen = RecentIds(self.name())
        self.in_order = InOrder()
        self.phones = VerifiedPhones(shared_redis())
        if not (bot_token and secret_token):
            logger.warning("Telegram channel not configured: its webhook refuses every request")

    def routes(self, pipeline: ChannelPipeline) -> Blueprint:
        webhook = webhook_blueprint(self.name())

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # The secret is checked on the header alone: Telegram does not sign the body.
            update = webhook_body(request, lambda raw: bool(self.bot_token) and same_secret(
                request.headers.get("X-Telegram-Bot-Api-Secret-Token"), self.secret_token))
            if isinstance(update, HTTPResponse):
                return update
            chat_id = _private_chat_id(update)
            if chat_id is not None and await self.seen.first_time(update.get("update_id")):
                agent = getattr(request.app.ctx, "agent", None)
                await queue_message(self.in_order, pipeline, self.secret_token, str(chat_id),
                                    functools.partial(self._handle, pipeline, agent, update, chat_id))
            return received()

        return webhook

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # replies need the chat, known only with its message

    def output_to(self, address: str) -> OutputChannel:
        """Messages to the chat `address` outside a turn (an adviser's: connectors.recipients)."""
        return TelegramOutput(self.api, self.bot_path, int(address) if address.lstrip("-").isdigit() else address)

    async def _handle(self, pipeline: ChannelPipeline, agent: Any, update: Dict[str, Any], chat_id: int,
                      arrival: Arrival) -> None:
        output = TelegramOutput(self.api, self.bot_path, chat_id)
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            await self.api.post(f"{self.bot_path}/answerCallbackQuery", {"callback_query_id": callback.get("id")})
        if arrival.refusal is not None:
            await refuse(pipeline, output, agent, arrival, arrival.refusal)
            return
        await while_busy(output.typing, CHAT_ACTION_RENEWAL_SECONDS,
                         self._answer(pipeline, output, agent, update, arrival))

    async def _answer(self, pipeline: ChannelPipeline, output: TelegramOutput, agent: Any, update: Dict[str, Any],
                      arrival: Arrival) -> None:
        phone = await self.phones.find(arrival.conversation)
        metadata = {"channel_phone": phone} if phone else {}
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            payload = await self._payload(agent, arrival.conversation, callback.get("data"))
            if payload is not None:
                await handle_text(pipeline, output, agent, arrival, payload, metadata)
            return
        edited = update.get("edited_message")
        if isinstance(edited, dict):
            if "location" not in edited:  # a live location moving is no edit of the customer's
                await answer(pipeline, output, agent, arrival, "utter_channel_message_edited")
            return
        message = update["message"]
        if message.get("photo") or message.get("document"):
            await handle_file(pipeline, output, agent, arrival, *await self._file(message), metadata)
            return
        text = message.get("text")
        start = _START.fullmatch(text) if isinstance(text, str) else None
        if start:
            await self._start(pipeline, output, agent, arrival, start.group(1), metadata)
            return
        if isinstance(text, str):
            await handle_text(pipeline, output, agent, arrival, text, metadata)
            return
        location = message.get("location")
        if isinstance(location, dict):
            venue = message.get("venue") if isinstance(message.get("venue"), dict) else {}
            await self._location(pipeline, output, agent, arrival, location, venue, metadata)
            return
        contact = message.get("contact")
        if isinstance(contact, dict):
            if not await self._own_phone(pipeline, output, agent, arrival, message, contact):
                name = " ".join(part for part in (contact.get("first_name"), contact.get("last_name"))
                                if isinstance(part, str))
                phone = telegram_phone(contact.get("phone_number")) or contact.get("phone_number")
                await handle_contact_cards(pipeline, output, agent, arrival, [(name, [phone])], metadata)
            return
        kind = next((field for field in CHANNEL_ANSWERS if field in message), None)
        await answer(pipeline, output, agent, arrival, CHANNEL_ANSWERS[kind] if kind else "utter_channel_unsupported_message")

    async def _start(self, pipeline: ChannelPipeline, output: TelegramOutput, agent: Any, arrival: Arrival,
                     parameter: Optional[str], metadata: Dict[str, Any]) -> None:
        """`/start [parameter]`: the request the link names, else a greeting; the phone sharing
        is offered until done."""
        if parameter:
            metadata = {**metadata, START_METADATA: parameter}
        if not await open_conversation(pipeline, output, agent, arrival, parameter, metadata):
            return
        if "channel_phone" not in metadata:
            text = response_words(agent, "utter_channel_share_phone", pipeline.channel)
            button = response_words(agent, "utter_channel_share_phone_button", pipeline.channel)
            if text and button:
                await output.offer_phone_sharing(text, button)

    async def _location(self, pipeline: ChannelPipeline, output: TelegramOutput, agent: Any, arrival: Arrival,
                        location: Dict[str, Any], venue: Dict[str, Any], metadata: Dict[str, Any]) -> None:
        """A location or a venue: the place of the loss during a claim declaration."""
        text = location_text(location.get("latitude"), location.get("longitude"), venue.get("title"),
                             venue.get("address"))
        if text is None or not await in_claim_declaration(agent, arrival.conversation):
            await answer(pipeline, output, agent, arrival, "utter_channel_location_outside_claim")
            return
        await handle_text(pipeline, output, agent, arrival, text, metadata)

    async def _own_phone(self, pipeline: ChannelPipeline, output: TelegramOutput, agent: Any, arrival: Arrival,
                         message: Dict[str, Any], contact: Dict[str, Any]) -> bool:
        """The sender's own contact (its `user_id` is the sender's: « Partager mon numéro »):
        their number remembered as verified; False for anyone else's contact card."""
        sender = message.get("from") if isinstance(message.get("from"), dict) else {}
        user_id = contact.get("user_id")
        phone = telegram_phone(contact.get("phone_number"))
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id != sender.get("id") or phone is None:
            return False
        await self.phones.remember(arrival.conversation, phone)
        words = response_words(agent, "utter_channel_phone_shared", pipeline.channel)
        if words:
            await output.send_text_closing_keyboard(words)
        return True

    async def _payload(self, agent: Any, sender: str, data: Any) -> Optional[str]:
        """The payload of a pressed button; a digest is looked up among the payloads offered."""
        if not isinstance(data, str) or not data:
            return None
        if not data.startswith(DIGEST_PREFIX):
            return data
        return next((p for p in await offered_payloads_of(agent, sender) if callback_data(p) == data), None)

    async def _file(self, message: Dict[str, Any]) -> Tuple[Optional[Tuple[bytes, str]], str, str]:
        """(downloaded bytes and type, declared type, file name) of a photo or a document."""
        if message.get("photo"):
            sizes = [size for size in message["photo"] if isinstance(size, dict)] if isinstance(
                message["photo"], list) else []
            file_id = sizes[-1].get("file_id") if sizes else None  # the largest size comes last
            declared_type, filename = "image/jpeg", "photo.jpg"  # Telegram sends photos as JPEG
        else:
            document = message["document"] if isinstance(message["document"], dict) else {}
            file_id = document.get("file_id")
            declared_type = str(document.get("mime_type") or "")
            filename = str(document.get("file_name") or "document")
        if not isinstance(file_id, str):
            return None, declared_type, filename
        found = await self.api.post(f"{self.bot_path}/getFile", {"file_id": file_id})
        path = (found or {}).get("result", {}).get("file_path") if isinstance(found, dict) else None
        if not isinstance(path, str) or not _FILE_PATH.fullmatch(path) or ".." in path:
            return None, declared_type, filename
        return await self.api.download(f"{self.api.base_url}/file{self.bot_path}/{path}"), declared_type, filename


def _private_chat_id(update: Dict[str, Any]) -> Optional[int]:
    """The private chat an update comes from: a message, an edited message or a button
    press; None otherwise (a reaction, a member update...: nothing to answer)."""
    callback = update.get("callback_query")
    message = callback.get("message") if isinstance(callback, dict) else (
        update.get("message") if "message" in update else update.get("edited_message"))
    chat = message.get("chat") if isinstance(message, dict) else None
    if not isinstance(chat, dict) or chat.get("type") != "private" or not isinstance(chat.get("id"), int):
        return None
    return chat["id"]


# --- claim notices (E, issue 15: bot/notices.py sends them outside a turn) -------------------

async def send_notice(output: TelegramOutput, text: str) -> Optional[str]:
    """A notice to `output`'s chat (sendMessage). NOTICE_SENT (None) when Telegram took every
    piece, else why not (connectors.messaging): a 403 (the user blocked the bot or deleted
    their account) or « chat not found » is no use retrying."""
    for piece in split_text(text, TEXT_LIMIT):
        status, answer = await output.api.post_answer(f"{output.bot_path}/sendMessage",
                                                      {"chat_id": output.chat_id, "text": piece})
        if status is None or status >= 400 or not isinstance(answer, dict) or answer.get("ok") is not True:
            description = str(answer.get("description", "")) if isinstance(answer, dict) else ""
            gone = status == 403 or (status == 400 and "chat not found" in description.lower())
            return RECIPIENT_GONE if gone else NOTICE_FAILED
    return NOTICE_SENT
