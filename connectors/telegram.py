"""Telegram channel: `POST /webhooks/telegram/webhook`.

- Refused with 403 unless the header `X-Telegram-Bot-Api-Secret-Token` is the secret
  given to Telegram with `setWebhook(secret_token=...)`; nothing else is asked of the
  Telegram API to trust an update (no call per update).
- Private chats only. Texts; inline-keyboard presses (`callback_query`, answered so
  that the button stops spinning); photos and documents, downloaded with `getFile` and
  attached to the claim in progress. Other updates are acknowledged and ignored; an
  update Telegram delivers twice is handled once.
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
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.messaging import (
    InOrder,
    PlatformApi,
    PlatformOutput,
    RecentIds,
    handle_file,
    handle_text,
    last_offered_payloads,
    queue_message,
    received,
    refuse_too_many,
    same_secret,
    setting,
    split_text,
    webhook_blueprint,
    webhook_body,
)

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
TEXT_LIMIT = 4096
# Telegram carries at most 64 bytes of callback data; longer payloads go by digest.
CALLBACK_DATA_LIMIT = 64
DIGEST_PREFIX = "#"
_FILE_PATH = re.compile(r"[A-Za-z0-9_./-]{1,200}")  # matched whole (fullmatch)


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


class TelegramInput(InputChannel):
    """The Telegram bot webhook."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(
            bot_token=setting(credentials, "bot_token", "TELEGRAM_BOT_TOKEN"),
            secret_token=setting(credentials, "secret_token", "TELEGRAM_SECRET_TOKEN"),
            api_url=setting(credentials, "api_url", "TELEGRAM_API_URL", DEFAULT_API_URL),
        )

    def __init__(self, bot_token: str, secret_token: str, api_url: str = DEFAULT_API_URL) -> None:
        self.bot_token = bot_token
        self.secret_token = secret_token
        self.api = PlatformApi(api_url)
        self.bot_path = f"/bot{bot_token}"
        self.seen = RecentIds(self.name())
        self.in_order = InOrder()
        if not (bot_token and secret_token):
            logger.warning("Telegram channel not configured: its webhook refuses every request")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
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
                queue_message(self.in_order, self.secret_token, self.name(), str(chat_id),
                              functools.partial(self._handle, on_new_message, agent, update, chat_id))
            return received()

        return webhook

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # replies need the chat, known only with its message

    async def _handle(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], agent: Any,
                      update: Dict[str, Any], chat_id: int, sender: str, wait: Optional[float]) -> None:
        output = TelegramOutput(self.api, self.bot_path, chat_id)
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            await self.api.post(f"{self.bot_path}/answerCallbackQuery", {"callback_query_id": callback.get("id")})
        if wait is not None:
            await refuse_too_many(output, sender, wait)
            return
        if isinstance(callback, dict):
            payload = await self._payload(agent, sender, callback.get("data"))
            if payload is not None:
                await handle_text(on_new_message, output, agent, sender, self.name(), payload, {})
            return
        message = update["message"]
        if message.get("photo") or message.get("document"):
            await handle_file(on_new_message, output, agent, sender, self.name(), *await self._file(message), {})
            return
        if "text" in message:
            await handle_text(on_new_message, output, agent, sender, self.name(), message["text"], {})

    async def _payload(self, agent: Any, sender: str, data: Any) -> Optional[str]:
        """The payload of a pressed button; a digest is looked up among the payloads offered."""
        if not isinstance(data, str) or not data:
            return None
        if not data.startswith(DIGEST_PREFIX):
            return data
        return next((p for p in await last_offered_payloads(agent, sender) if callback_data(p) == data), None)

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
    """The private chat an update comes from: a message or a button press; None otherwise."""
    callback = update.get("callback_query")
    message = callback.get("message") if isinstance(callback, dict) else update.get("message")
    chat = message.get("chat") if isinstance(message, dict) else None
    if not isinstance(chat, dict) or chat.get("type") != "private" or not isinstance(chat.get("id"), int):
        return None
    return chat["id"]
