"""WhatsApp Cloud API channel: `GET|POST /webhooks/whatsapp/webhook`.

- GET: Meta's subscription check (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`
  echoed back).
- POST: refused with 403 unless `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body
  with the app secret; acknowledged at once, the messages handled in the background.
  Texts, reply-button and list answers (their id is the payload the assistant offered),
  photos and documents (downloaded through the Graph API and attached to the claim in
  progress). Delivery statuses and other events are ignored; a message Meta delivers
  twice is handled once.
- The sender's WhatsApp number, which WhatsApp has verified, goes with every message as
  metadata `channel_phone` (E.164): identification matches it to the phone on file.
- Replies through the Graph API `POST /{phone-number-id}/messages`: texts (split at
  WhatsApp's 4096 characters), reply buttons (three at most, 20-character titles) or a
  list beyond that, images, and documents (the attestation PDF).

Settings (credentials.yml keys, else environment variables): `access_token`
(WHATSAPP_ACCESS_TOKEN), `app_secret` (WHATSAPP_APP_SECRET), `verify_token`
(WHATSAPP_VERIFY_TOKEN), `phone_number_id` (WHATSAPP_PHONE_NUMBER_ID), `api_url`
(WHATSAPP_API_URL, default https://graph.facebook.com/v21.0).
"""

import functools
import logging
import mimetypes
import re
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.messaging import (
    InOrder,
    PlatformApi,
    PlatformOutput,
    RecentIds,
    add_meta_subscription_check,
    handle_file,
    handle_text,
    json_items,
    meta_signature_valid,
    queue_message,
    received,
    refuse_too_many,
    setting,
    shortened,
    split_text,
    webhook_blueprint,
    webhook_body,
)

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://graph.facebook.com/v21.0"
TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
MAX_REPLY_BUTTONS = 3
BUTTON_TITLE_LIMIT = 20
MAX_LIST_ROWS = 10
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
ROW_ID_LIMIT = 200
# The label of the button that opens a list (20 characters at most).
LIST_BUTTON_LABEL = "Choisir"
_WA_ID = re.compile(r"[1-9][0-9]{7,14}")  # matched whole (fullmatch)


def interactive_message(body: str, buttons: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Reply buttons when they fit (three, short titles), else a list of up to ten rows."""
    choices = [(str(b.get("title", "")), str(b.get("payload", ""))) for b in buttons if b.get("payload")]
    if len(choices) <= MAX_REPLY_BUTTONS and all(len(title) <= BUTTON_TITLE_LIMIT for title, _ in choices):
        return {
            "type": "button",
            "body": {"text": body},
            "action": {"buttons": [{"type": "reply", "reply": {"id": payload, "title": title}}
                                   for title, payload in choices]},
        }
    if len(choices) > MAX_LIST_ROWS:
        logger.warning("%s choices offered, WhatsApp lists show %s", len(choices), MAX_LIST_ROWS)
    rows = []
    for title, payload in choices[:MAX_LIST_ROWS]:
        row = {"id": payload[:ROW_ID_LIMIT], "title": shortened(title, ROW_TITLE_LIMIT)}
        if len(title) > ROW_TITLE_LIMIT:  # the whole title shows under the cut one
            row["description"] = shortened(title, ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    return {
        "type": "list",
        "body": {"text": body},
        "action": {"button": LIST_BUTTON_LABEL, "sections": [{"rows": rows}]},
    }


class WhatsAppOutput(PlatformOutput):
    """Replies to one WhatsApp user through the Graph API."""

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    def __init__(self, api: PlatformApi, phone_number_id: str, to: str) -> None:
        self.api = api
        self.phone_number_id = phone_number_id
        self.to = to

    async def _send(self, message: Dict[str, Any]) -> None:
        await self.api.post(f"/{self.phone_number_id}/messages", {
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": self.to, **message,
        })

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for piece in split_text(text, TEXT_LIMIT):
            await self._send({"type": "text", "text": {"body": piece, "preview_url": False}})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        pieces = split_text(text, TEXT_LIMIT)
        body = pieces.pop()
        if len(body) > INTERACTIVE_BODY_LIMIT:  # the buttons go with the last short piece
            last = split_text(body, INTERACTIVE_BODY_LIMIT)
            body = last.pop()
            pieces += last
        for piece in pieces:
            await self._send({"type": "text", "text": {"body": piece, "preview_url": False}})
        await self._send({"type": "interactive", "interactive": interactive_message(body, buttons)})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send({"type": "image", "image": {"link": image}})

    async def send_document(self, document: Dict[Text, Any]) -> None:
        sent = {"link": document["url"]}
        if document.get("filename"):
            sent["filename"] = document["filename"]
        await self._send({"type": "document", "document": sent})


def incoming_messages(body: Dict[str, Any]) -> Iterator[Tuple[Dict[str, Any], str, Optional[str]]]:
    """(message, WhatsApp id to reply to, sender's verified phone number in E.164 or None) of
    every user message of a webhook body; statuses and other fields are skipped."""
    if body.get("object") != "whatsapp_business_account":
        return
    for entry in json_items(body.get("entry")):
        for change in json_items(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            contacts = json_items(value.get("contacts"))
            for message in json_items(value.get("messages")):
                sender = message.get("from")
                if not isinstance(sender, str) or not sender or len(sender) > 64:
                    continue
                yield message, sender, verified_phone(sender, contacts)


def verified_phone(sender: str, contacts: List[Dict[str, Any]]) -> Optional[str]:
    """The sender's number as WhatsApp verified it (the contact's `wa_id`), in E.164."""
    wa_id = next((c["wa_id"] for c in contacts if c.get("wa_id") == sender), None)
    if wa_id is None and len(contacts) == 1:  # a contact whose id differs from `from`
        wa_id = contacts[0].get("wa_id")
    wa_id = wa_id if isinstance(wa_id, str) else sender
    return f"+{wa_id}" if _WA_ID.fullmatch(wa_id) else None


def message_text(message: Dict[str, Any]) -> Optional[str]:
    """What a text, a reply button or a list choice says (a choice says its payload)."""
    kind = message.get("type")
    content = message.get(kind) if isinstance(kind, str) else None
    if not isinstance(content, dict):
        return None
    if kind == "text":
        return content.get("body")
    if kind == "interactive":
        reply = content.get(content.get("type")) if content.get("type") in ("button_reply", "list_reply") else None
        return reply.get("id") if isinstance(reply, dict) else None
    if kind == "button":  # quick reply of a template message
        return content.get("payload") or content.get("text")
    return None


class WhatsAppInput(InputChannel):
    """The WhatsApp Cloud API webhook."""

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(
            access_token=setting(credentials, "access_token", "WHATSAPP_ACCESS_TOKEN"),
            app_secret=setting(credentials, "app_secret", "WHATSAPP_APP_SECRET"),
            verify_token=setting(credentials, "verify_token", "WHATSAPP_VERIFY_TOKEN"),
            phone_number_id=setting(credentials, "phone_number_id", "WHATSAPP_PHONE_NUMBER_ID"),
            api_url=setting(credentials, "api_url", "WHATSAPP_API_URL", DEFAULT_API_URL),
        )

    def __init__(self, access_token: str, app_secret: str, verify_token: str, phone_number_id: str,
                 api_url: str = DEFAULT_API_URL) -> None:
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.phone_number_id = phone_number_id
        self.api = PlatformApi(api_url, {"Authorization": f"Bearer {access_token}"})
        self.seen = RecentIds(self.name())
        self.in_order = InOrder()
        if not (access_token and app_secret and verify_token and phone_number_id):
            logger.warning("WhatsApp channel not configured: its webhook refuses every request")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = webhook_blueprint(self.name())
        add_meta_subscription_check(webhook, self.verify_token)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = webhook_body(request, lambda raw: meta_signature_valid(
                raw, request.headers.get("X-Hub-Signature-256"), self.app_secret))
            if isinstance(body, HTTPResponse):
                return body
            agent = getattr(request.app.ctx, "agent", None)
            for message, reply_to, phone in incoming_messages(body):
                if not await self.seen.first_time(message.get("id")):
                    continue
                queue_message(self.in_order, self.app_secret, self.name(), reply_to,
                              functools.partial(self._handle, on_new_message, agent, message, reply_to, phone))
            return received()

        return webhook

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # replies need the user's number, known only with their message

    async def _handle(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], agent: Any,
                      message: Dict[str, Any], reply_to: str, phone: Optional[str], sender: str,
                      wait: Optional[float]) -> None:
        output = WhatsAppOutput(self.api, self.phone_number_id, reply_to)
        if wait is not None:
            await refuse_too_many(output, sender, wait)
            return
        metadata = {"channel_phone": phone} if phone else {}
        kind = message.get("type")
        if kind in ("image", "document"):
            media = message.get(kind) if isinstance(message.get(kind), dict) else {}
            declared_type = str(media.get("mime_type") or "")
            filename = media.get("filename") or f"photo{mimetypes.guess_extension(declared_type) or ''}"
            downloaded = await self._download(media.get("id"))
            await handle_file(on_new_message, output, agent, sender, self.name(), downloaded, declared_type,
                              str(filename), metadata)
            return
        text = message_text(message)
        if text is None:
            logger.info("WhatsApp message of type %s ignored", str(kind)[:30])
            return
        await handle_text(on_new_message, output, agent, sender, self.name(), text, metadata)

    async def _download(self, media_id: Any) -> Optional[Tuple[bytes, str]]:
        """A media file: its URL from the Graph API, then the file itself (both with the token)."""
        if not isinstance(media_id, str) or not media_id.isalnum():
            return None
        media = await self.api.get_json(f"/{media_id}")
        if not isinstance(media, dict) or not isinstance(media.get("url"), str):
            return None
        return await self.api.download(media["url"])
