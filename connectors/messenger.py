"""Facebook Messenger channel: `GET|POST /webhooks/messenger/webhook`.

- GET: Meta's subscription check (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`).
- POST: refused with 403 unless `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body
  with the app secret (the older SHA-1 `X-Hub-Signature` alone is not accepted);
  acknowledged at once, the events handled in the background.
- Texts, quick replies and postbacks (their payload is what the assistant offered); the
  page's « Démarrer » button, its menu items and m.me links (`ref`, in a postback or a
  `messaging_referrals` event) open the request they name, else the assistant greets
  (connectors/deep_links.py; the parameter kept as metadata `messenger_ref`);
  photos and files attached to the claim in progress; a location is the place of the loss
  during a claim declaration; audio, videos, stickers (the « like » among them) and other
  attachments (shared links, templates) are answered by the channel (domain/channels.yml);
  an edited message (`message_edits`) is answered with what is done with edits (it is not
  read again); reactions (`message_reactions`), echoes, deliveries, reads and other events
  get no answer; an event Meta delivers twice is handled once. While a message is handled,
  the customer sees it seen and « typing… » (sender actions `mark_seen`, `typing_on`).
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
from typing import Any, Dict, Iterator, List, Optional, Text, Tuple
from urllib.parse import urlparse

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.deep_links import link_parameter
from connectors.messaging import (
    NOTICE_FAILED,
    NOTICE_SENT,
    RECIPIENT_GONE,
    InOrder,
    PlatformApi,
    PlatformOutput,
    RecentIds,
    add_meta_subscription_check,
    answer,
    handle_file,
    handle_text,
    in_claim_declaration,
    json_items,
    location_text,
    meta_error,
    meta_signature_valid,
    open_conversation,
    queue_message,
    received,
    refuse,
    setting,
    shortened,
    split_text,
    webhook_blueprint,
    webhook_body,
    while_busy,
)
from connectors.pipeline import Arrival, ChannelPipeline, PipelineChannel, offered_payloads_of
from core.settings import default

logger = logging.getLogger(__name__)

DEFAULT_API_URL = default("MESSENGER_API_URL")
TEXT_LIMIT = 2000
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE_LIMIT = 20
QUICK_REPLY_PAYLOAD_LIMIT = 1000
# Attachment types that can go to a claim, and the type assumed when Meta gives none.
FILE_TYPES = {"image": "image/jpeg", "file": ""}
# What the channel answers by itself, by attachment type (a sticker comes as an image with
# a `sticker_id`); any other type gets the « unsupported » answer.
CHANNEL_ANSWERS = {
    "audio": "utter_channel_voice_message",
    "video": "utter_channel_video",
    "sticker": "utter_channel_sticker",
}
# « typing… » shows 20 seconds, or until the page's message: renewed meanwhile.
TYPING_RENEWAL_SECONDS = 15
# The parameter of the link the conversation was opened from (connectors/deep_links.py).
OPENING_METADATA = "messenger_ref"


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

    async def sender_action(self, action: str) -> None:
        """`mark_seen`, `typing_on` (a sender action goes alone, without a message)."""
        await self.api.post("/me/messages", {"recipient": {"id": self.psid}, "sender_action": action},
                            params={"access_token": self._token})

    async def seen_and_typing(self) -> None:
        await self.sender_action("mark_seen")
        await self.sender_action("typing_on")

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
    """A message's or postback's id (`mid`; an edit's with its number), else sender and time:
    what a redelivery repeats."""
    edit = event.get("message_edit")
    if isinstance(edit, dict) and isinstance(edit.get("mid"), str):
        return f"{edit['mid']}:edit:{edit.get('num_edit')}"
    for kind in ("message", "postback"):
        content = event.get(kind)
        if isinstance(content, dict) and isinstance(content.get("mid"), str):
            return content["mid"]
    return f"{psid}:{event.get('timestamp')}" if event.get("timestamp") is not None else None


class MessengerInput(PipelineChannel):
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
            api_url=setting(credentials, "api_url", "MESSENGER_API_URL"),
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

    def routes(self, pipeline: ChannelPipeline) -> Blueprint:
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
                await queue_message(self.in_order, pipeline, self.app_secret, psid,
                                    functools.partial(self._handle, pipeline, agent, psid, event))
            return received()

        return webhook

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # replies need the user's page-scoped id, known only with their message

    def output_to(self, address: str) -> OutputChannel:
        """Messages to the user `address` outside a turn (an adviser's: connectors.recipients)."""
        return MessengerOutput(self.api, self.page_access_token, address)

    async def _handle(self, pipeline: ChannelPipeline, agent: Any, psid: str, event: Dict[str, Any],
                      arrival: Arrival) -> None:
        output = MessengerOutput(self.api, self.page_access_token, psid)
        if arrival.refusal is not None:
            await refuse(pipeline, output, agent, arrival, arrival.refusal)
            return
        await while_busy(output.seen_and_typing, TYPING_RENEWAL_SECONDS, self._answer(pipeline, output, agent, event, arrival))

    async def _answer(self, pipeline: ChannelPipeline, output: MessengerOutput, agent: Any, event: Dict[str, Any],
                      arrival: Arrival) -> None:
        if isinstance(event.get("message_edit"), dict):
            await answer(pipeline, output, agent, arrival, "utter_channel_message_edited")
            return
        postback = event.get("postback")
        if isinstance(postback, dict) and await _offered_by_the_assistant(agent, arrival, postback):
            await handle_text(pipeline, output, agent, arrival, postback.get("payload") or postback.get("title"), {})
            return
        if isinstance(postback, dict) or isinstance(event.get("referral"), dict):
            await self._open(pipeline, output, agent, arrival, event)
            return
        message = event["message"]
        quick_reply = message.get("quick_reply")
        if isinstance(quick_reply, dict) and quick_reply.get("payload"):
            await handle_text(pipeline, output, agent, arrival, quick_reply["payload"], {})
            return
        attachments = json_items(message.get("attachments"))
        files = [a for a in attachments if a.get("type") in FILE_TYPES and not _sticker(a)]
        for attachment in files:
            url = (attachment.get("payload") or {}).get("url") if isinstance(attachment.get("payload"), dict) else None
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                url = None
            downloaded = await self.api.download(url) if url else None
            # Meta's file URLs end with the file's name.
            name = PurePosixPath(urlparse(url).path).name if url else ""
            name = name or ("photo.jpg" if attachment["type"] == "image" else "document")
            await handle_file(pipeline, output, agent, arrival, downloaded, FILE_TYPES[attachment["type"]], name, {})
        if "text" in message and not files:
            await handle_text(pipeline, output, agent, arrival, message["text"], {})
            return
        others = [a for a in attachments if a not in files]
        if files or not others:
            return
        kind = "sticker" if _sticker(others[0]) else others[0].get("type")
        if kind == "location":
            await self._location(pipeline, output, agent, arrival, others[0])
            return
        await answer(pipeline, output, agent, arrival, CHANNEL_ANSWERS.get(kind, "utter_channel_unsupported_message"))

    async def _open(self, pipeline: ChannelPipeline, output: MessengerOutput, agent: Any, arrival: Arrival,
                    event: Dict[str, Any]) -> None:
        """The « Démarrer » button, a menu item of the page, or an m.me link opened in an
        existing thread: the request its `ref` (else the page's payload) names, else a greeting."""
        postback = event.get("postback") if isinstance(event.get("postback"), dict) else {}
        referral = event.get("referral") if isinstance(event.get("referral"), dict) else postback.get("referral")
        ref = link_parameter(referral.get("ref")) if isinstance(referral, dict) else None
        parameter = ref or link_parameter(postback.get("payload"))
        await open_conversation(pipeline, output, agent, arrival, parameter,
                                {OPENING_METADATA: parameter} if parameter else {})

    async def _location(self, pipeline: ChannelPipeline, output: MessengerOutput, agent: Any, arrival: Arrival,
                        attachment: Dict[str, Any]) -> None:
        """A shared location: the place of the loss during a claim declaration."""
        payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        coordinates = payload.get("coordinates") if isinstance(payload.get("coordinates"), dict) else {}
        title = attachment.get("title") if attachment.get("title") != "Pinned Location" else None
        text = location_text(coordinates.get("lat"), coordinates.get("long"), title)
        if text is None or not await in_claim_declaration(agent, arrival.conversation):
            await answer(pipeline, output, agent, arrival, "utter_channel_location_outside_claim")
            return
        await handle_text(pipeline, output, agent, arrival, text, {})


def _sticker(attachment: Dict[str, Any]) -> bool:
    """A sticker (the « like » thumb among them) comes as an image with a `sticker_id`."""
    payload = attachment.get("payload")
    return isinstance(payload, dict) and payload.get("sticker_id") is not None


async def _offered_by_the_assistant(agent: Any, arrival: Arrival, postback: Dict[str, Any]) -> bool:
    """A button of the assistant's own answers (an /intent, or a payload of its last answer's
    buttons); the page's « Démarrer » button and menu items carry payloads the page set."""
    payload = postback.get("payload")
    return (not isinstance(payload, str) or payload.startswith("/")
            or payload in await offered_payloads_of(agent, arrival.conversation))


def _from_the_user(event: Dict[str, Any]) -> bool:
    """A message the user sent (not the page's own echo), an edit of one, a postback, or an
    m.me link opened (`messaging_referrals`); other events (reactions, deliveries, reads)
    are ignored."""
    message = event.get("message")
    if isinstance(message, dict):
        return not message.get("is_echo")
    return any(isinstance(event.get(kind), dict) for kind in ("postback", "message_edit", "referral"))


# --- claim notices (E, issue 15: bot/notices.py sends them outside a turn) -------------------

# Outside the 24-hour window a page writes with a message tag; a claim moving (expert visit,
# indemnity, closing) is a non-recurring change to the customer's file: ACCOUNT_UPDATE
# (never promotional content).
NOTICE_MESSAGING_TYPE = "MESSAGE_TAG"
NOTICE_TAG = "ACCOUNT_UPDATE"


# Send API errors no retry mends: the person is not available (551, blocked the page or
# left), no user matches the id (100/2018001), outside what the page may send (10/2018278).
GONE_ERRORS = {(551, None), (100, 2018001), (10, 2018278)}


async def send_notice(output: MessengerOutput, text: str) -> Optional[str]:
    """A notice to `output`'s user, tagged so that it is allowed outside the window.
    NOTICE_SENT (None) when the platform took every piece, else why not (connectors.messaging)."""
    for piece in split_text(text, TEXT_LIMIT):
        status, answer = await output.api.post_answer(
            "/me/messages",
            {"recipient": {"id": output.psid}, "messaging_type": NOTICE_MESSAGING_TYPE, "tag": NOTICE_TAG,
             "message": {"text": piece}},
            params={"access_token": output._token},
        )
        if status is None or status >= 400:
            code, subcode = meta_error(answer)
            gone = (code, subcode) in GONE_ERRORS or (code, None) in GONE_ERRORS
            return RECIPIENT_GONE if gone else NOTICE_FAILED
    return NOTICE_SENT
