"""Facebook Messenger channel: `GET|POST /webhooks/messenger/webhook`.

- GET: Meta's subscription check (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`).
- POST: refused with 403 unless `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body
  with the app secret (the older SHA-1 `X-Hub-Signature` alone is not accepted);
  acknowledged at once, the events handled in the background.
- Texts, quick replies and postbacks (their payload is what the assistant offered);
  photos and files attached to the claim in progress. Echoes, deliveries, reads and
  other events are ignored; an event Meta delivers twice is handled once.
- Replies through the Send API (`POST /me/messages`): texts (split at Messenger's 2000
  characters), quick replies (thirteen at most, 20-character titles), images and files
  (the attestation PDF).

Settings (credentials.yml keys, else environment variables): `page_access_token`
(MESSENGER_PAGE_ACCESS_TOKEN), `app_secret` (MESSENGER_APP_SECRET), `verify_token`
(MESSENGER_VERIFY_TOKEN), `api_url` (MESSENGER_API_URL, default
https://graph.facebook.com/v21.0).
"""

import functools
import logging
from pathlib import PurePosixPath
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Text, Tuple
from urllib.parse import urlparse

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
TEXT_LIMIT = 2000
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE_LIMIT = 20
QUICK_REPLY_PAYLOAD_LIMIT = 1000
# Attachment types that can go to a claim, and the type assumed when Meta gives none.
FILE_TYPES = {"image": "image/jpeg", "file": ""}


class MessengerOutput(PlatformOutput):
    """Replies to one Messenger user (page-scoped id) through the Send API."""

    @classmethod
    def name(cls) -> Text:
        return "messenger"

    def __init__(self, api: PlatformApi, page_access_token: str, psid: str) -> None:
        self.api = api
        self._token = page_access_token
        self.psid = psid

    async def _send(self, message: Dict[str, Any]) -> None:
        await self.api.post(
            "/me/messages",
            {"recipient": {"id": self.psid}, "messaging_type": "RESPONSE", "message": message},
            params={"access_token": self._token},
        )

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for piece in split_text(text, TEXT_LIMIT):
            await self._send({"text": piece})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        pieces = split_text(text, TEXT_LIMIT)
        for piece in pieces[:-1]:
            await self._send({"text": piece})
        quick_replies = [
            {"content_type": "text", "title": shortened(str(b.get("title", "")), QUICK_REPLY_TITLE_LIMIT),
             "payload": str(b["payload"])[:QUICK_REPLY_PAYLOAD_LIMIT]}
            for b in buttons if b.get("payload")
        ][:MAX_QUICK_REPLIES]
        await self._send({"text": pieces[-1], "quick_replies": quick_replies})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send({"attachment": {"type": "image", "payload": {"url": image, "is_reusable": False}}})

    async def send_document(self, document: Dict[Text, Any]) -> None:
        await self._send({"attachment": {"type": "file", "payload": {"url": document["url"], "is_reusable": False}}})


def messaging_events(body: Dict[str, Any]) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(sender's page-scoped id, event) of every messaging event of a page webhook body."""
    if body.get("object") != "page":
        return
    for entry in json_items(body.get("entry")):
        for event in json_items(entry.get("messaging")):
            sender = event.get("sender")
            psid = sender.get("id") if isinstance(sender, dict) else None
            if isinstance(psid, str) and psid.isascii() and psid.isdigit() and len(psid) <= 64:
                yield psid, event


def event_id(psid: str, event: Dict[str, Any]) -> Optional[str]:
    """A message's or postback's id (`mid`), else sender and time: what a redelivery repeats."""
    for kind in ("message", "postback"):
        content = event.get(kind)
        if isinstance(content, dict) and isinstance(content.get("mid"), str):
            return content["mid"]
    return f"{psid}:{event.get('timestamp')}" if event.get("timestamp") is not None else None


class MessengerInput(InputChannel):
    """The Messenger page webhook."""

    @classmethod
    def name(cls) -> Text:
        return "messenger"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(
            page_access_token=setting(credentials, "page_access_token", "MESSENGER_PAGE_ACCESS_TOKEN"),
            app_secret=setting(credentials, "app_secret", "MESSENGER_APP_SECRET"),
            verify_token=setting(credentials, "verify_token", "MESSENGER_VERIFY_TOKEN"),
            api_url=setting(credentials, "api_url", "MESSENGER_API_URL", DEFAULT_API_URL),
        )

    def __init__(self, page_access_token: str, app_secret: str, verify_token: str,
                 api_url: str = DEFAULT_API_URL) -> None:
        self.page_access_token = page_access_token
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.api = PlatformApi(api_url)
        self.seen = RecentIds(self.name())
        self.in_order = InOrder()
        if not (page_access_token and app_secret and verify_token):
            logger.warning("Messenger channel not configured: its webhook refuses every request")

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
            for psid, event in messaging_events(body):
                if not _from_the_user(event) or not await self.seen.first_time(event_id(psid, event)):
                    continue
                queue_message(self.in_order, self.app_secret, self.name(), psid,
                              functools.partial(self._handle, on_new_message, agent, psid, event))
            return received()

        return webhook

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # replies need the user's page-scoped id, known only with their message

    async def _handle(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], agent: Any,
                      psid: str, event: Dict[str, Any], sender: str, wait: Optional[float]) -> None:
        output = MessengerOutput(self.api, self.page_access_token, psid)
        if wait is not None:
            await refuse_too_many(output, sender, wait)
            return
        postback = event.get("postback")
        if isinstance(postback, dict):
            await handle_text(on_new_message, output, agent, sender, self.name(),
                              postback.get("payload") or postback.get("title"), {})
            return
        message = event["message"]
        quick_reply = message.get("quick_reply")
        if isinstance(quick_reply, dict) and quick_reply.get("payload"):
            await handle_text(on_new_message, output, agent, sender, self.name(), quick_reply["payload"], {})
            return
        files = [a for a in json_items(message.get("attachments")) if a.get("type") in FILE_TYPES]
        for attachment in files:
            url = (attachment.get("payload") or {}).get("url") if isinstance(attachment.get("payload"), dict) else None
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                url = None
            downloaded = await self.api.download(url) if url else None
            # Meta's file URLs end with the file's name.
            name = PurePosixPath(urlparse(url).path).name if url else ""
            name = name or ("photo.jpg" if attachment["type"] == "image" else "document")
            await handle_file(on_new_message, output, agent, sender, self.name(), downloaded,
                              FILE_TYPES[attachment["type"]], name, {})
        if "text" in message and not files:
            await handle_text(on_new_message, output, agent, sender, self.name(), message["text"], {})


def _from_the_user(event: Dict[str, Any]) -> bool:
    """A message the user sent (not the page's own echo) or a postback; other events are ignored."""
    message = event.get("message")
    if isinstance(message, dict):
        return not message.get("is_echo")
    return isinstance(event.get("postback"), dict)
