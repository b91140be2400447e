"""WhatsApp Cloud API channel: `GET|POST /webhooks/whatsapp/webhook`.

- GET: Meta's subscription check (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`
  echoed back).
- POST: refused with 403 unless `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body
  with the app secret; acknowledged at once, the messages handled in the background.
  Texts, reply-button and list answers (their id is the payload the assistant offered),
  photos and documents (downloaded through the Graph API and attached to the claim in
  progress); a location is the place of the loss during a claim declaration, contact cards
  the witnesses or the other person when the declaration asks for them; voice notes and
  audio, videos, stickers, other contact cards and unsupported messages are answered by the
  channel (domain/channels.yml); reactions, system messages, delivery statuses and other
  events get no answer; a message Meta delivers twice is handled once. While a message is
  handled, the customer sees it read and the typing indicator.
- Who writes: the WhatsApp number (`from`) and, since 2026, the business-scoped user id
  (BSUID, `from_user_id`, the contact's `user_id`), alone for users with a username. One
  person keeps one conversation when Meta moves them from number to BSUID
  (WhatsAppConversations). Replies go `to` the number, else to the `recipient` BSUID.
- The sender's WhatsApp number, which WhatsApp has verified, goes with every message as
  metadata `channel_phone` (E.164): identification matches it to the phone on file; without
  a number, identification asks the customer id, birth date and SMS code as on the web.
- Replies through the Graph API `POST /{phone-number-id}/messages`: texts (split at
  WhatsApp's 4096 characters), reply buttons (three at most, 20-character titles) or a
  list beyond that, images, and documents (the attestation PDF).

Settings (credentials.yml keys, else environment variables): `access_token`
(WHATSAPP_ACCESS_TOKEN), `app_secret` (WHATSAPP_APP_SECRET), `verify_token`
(WHATSAPP_VERIFY_TOKEN), `phone_number_id` (WHATSAPP_PHONE_NUMBER_ID), `api_url`
(WHATSAPP_API_URL, default https://graph.facebook.com/v21.0).
"""

import functools
import hashlib
import hmac
import logging
import mimetypes
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Text

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
    add_meta_subscription_check,
    answer,
    handle_contact_cards,
    handle_file,
    handle_text,
    in_claim_declaration,
    json_items,
    location_text,
    meta_error,
    meta_signature_valid,
    pseudonym,
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
from connectors.pipeline import Arrival, ChannelPipeline, PipelineChannel
from connectors.shared_state import KEY_PREFIX, SharedRedis, Unavailable, shared_redis
from core.settings import default

logger = logging.getLogger(__name__)

DEFAULT_API_URL = default("WHATSAPP_API_URL")
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
# A business-scoped user id: country code, a period, up to 128 letters and digits
# (« US.13491208655302741918 »; a parent BSUID has « ENT » in between).
_BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
# The typing indicator shows 25 seconds at most, or until the reply: renewed meanwhile.
TYPING_RENEWAL_SECONDS = 20
# How long the conversation of a BSUID is remembered after its user's last message.
BSUID_CONVERSATION_SECONDS = 400 * 24 * 3600
# Without Redis, the users a process remembers (the most recent).
REMEMBERED_IN_PROCESS = 100_000
# What the channel answers by itself, by message type; reactions, system messages and
# anything else not named here (or read by message_text) get the « unsupported » answer or none.
CHANNEL_ANSWERS = {
    "audio": "utter_channel_voice_message",
    "video": "utter_channel_video",
    "sticker": "utter_channel_sticker",
}
UNANSWERED_TYPES = {"reaction", "system", "ephemeral", "request_welcome"}


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
        self.to = to  # a WhatsApp number, or a business-scoped user id (BSUID)

    async def _send(self, message: Dict[str, Any]) -> None:
        await self.api.post(f"/{self.phone_number_id}/messages", {
            "messaging_product": "whatsapp", "recipient_type": "individual", **addressed_to(self.to), **message,
        })

    async def mark_read_and_typing(self, message_id: Any) -> None:
        """The customer's message shown read, and the typing indicator until the reply."""
        if isinstance(message_id, str) and message_id:
            await self.api.post(f"/{self.phone_number_id}/messages", {
                "messaging_product": "whatsapp", "status": "read", "message_id": message_id,
                "typing_indicator": {"type": "text"}})

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


def addressed_to(address: str) -> Dict[str, str]:
    """The Cloud API's recipient field for `address`: `to` a number, `recipient` a BSUID."""
    return {"recipient": address} if _BSUID.fullmatch(address) else {"to": address}


@dataclass(frozen=True)
class Sender:
    """Who wrote a message: their number (`from`) and their BSUID, at least one of them."""

    wa_id: Optional[str]
    user_id: Optional[str]

    @property
    def address(self) -> str:
        """Where replies go: the number when WhatsApp gave it, else the BSUID."""
        return self.wa_id or self.user_id or ""


def incoming_messages(body: Dict[str, Any]) -> Iterator[tuple]:
    """(message, sender, sender's verified phone number in E.164 or None) of every user
    message of a webhook body; statuses and other fields are skipped, and so are messages
    naming neither a number nor a business-scoped user id."""
    if body.get("object") != "whatsapp_business_account":
        return
    for entry in json_items(body.get("entry")):
        for change in json_items(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            contacts = json_items(value.get("contacts"))
            for message in json_items(value.get("messages")):
                sender = message_sender(message, contacts)
                if sender is None:
                    continue
                phone = verified_phone(sender.wa_id, contacts) if sender.wa_id else None
                yield message, sender, phone


def message_sender(message: Dict[str, Any], contacts: List[Dict[str, Any]]) -> Optional[Sender]:
    """The sender of `message`: `from` (a number), `from_user_id` or, with one contact, its
    `user_id` (a BSUID); None when neither is given or valid."""
    wa_id = message.get("from")
    wa_id = wa_id if isinstance(wa_id, str) and 0 < len(wa_id) <= 64 and not _BSUID.fullmatch(wa_id) else None
    user_id = message.get("from_user_id")
    if not isinstance(user_id, str):
        matching = [c for c in contacts if wa_id and c.get("wa_id") == wa_id] or (contacts if len(contacts) == 1 else [])
        user_id = matching[0].get("user_id") if matching else None
    if isinstance(message.get("from"), str) and _BSUID.fullmatch(message["from"]) and not isinstance(user_id, str):
        user_id = message["from"]  # a BSUID where the number was: a user known by it alone
    user_id = user_id if isinstance(user_id, str) and _BSUID.fullmatch(user_id) else None
    return Sender(wa_id, user_id) if wa_id or user_id else None


class WhatsAppConversations:
    """The conversation of a WhatsApp user, whether Meta names them by number, by BSUID or
    both: a user first known by number keeps that conversation once they are known by BSUID
    alone (a username hides the number), and the other way round; a user who changed their
    number (Meta's system message `user_changed_number`) keeps it too. Remembered as digests
    (no number, no BSUID) in the replicas' Redis (connectors.shared_state) for
    BSUID_CONVERSATION_SECONDS after the last message, in the process otherwise."""

    def __init__(self, secret: str, shared: Optional[SharedRedis] = None) -> None:
        self._secret = secret
        self._shared = shared
        self._here: Dict[str, str] = {}

    @classmethod
    def from_environment(cls, secret: str) -> "WhatsAppConversations":
        return cls(secret, shared_redis())

    def _key(self, identifier: str) -> str:
        digest = hmac.new(self._secret.encode(), f"whatsapp-user:{identifier}".encode(), hashlib.sha256).hexdigest()
        return f"{KEY_PREFIX}whatsapp-user:{digest[:32]}"

    def _keys(self, sender: Sender) -> List[str]:
        """The BSUID's first: the identifier Meta keeps when the number is hidden."""
        return [self._key(identifier) for identifier in (sender.user_id, sender.wa_id) if identifier]

    async def conversation_of(self, sender: Sender) -> str:
        keys = self._keys(sender)
        known = None
        for key in keys:
            known = await self._find(key)
            if known:
                break
        conversation = known or pseudonym(self._secret, "whatsapp", sender.address)
        for key in keys:
            await self._remember(key, conversation)
        return conversation

    async def moved(self, sender: Sender, new: Sender) -> None:
        """`sender` is now `new` (Meta's `user_changed_number`): the same conversation."""
        conversation = await self.conversation_of(sender)
        for key in self._keys(new):
            await self._remember(key, conversation)

    async def _find(self, key: str) -> Optional[str]:
        if self._shared is not None and self._shared.available():
            try:
                stored = await self._shared.run(lambda client: client.get(key))
                if stored:
                    return stored.decode() if isinstance(stored, bytes) else str(stored)
            except Unavailable:
                pass
        return self._here.get(key)

    async def _remember(self, key: str, conversation: str) -> None:
        self._here.pop(key, None)
        self._here[key] = conversation
        if len(self._here) > REMEMBERED_IN_PROCESS:  # the least recently seen forgotten
            del self._here[next(iter(self._here))]
        if self._shared is not None and self._shared.available():
            try:
                await self._shared.run(lambda client: client.set(key, conversation, ex=BSUID_CONVERSATION_SECONDS))
            except Unavailable:
                pass


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


class WhatsAppInput(PipelineChannel):
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
            api_url=setting(credentials, "api_url", "WHATSAPP_API_URL"),
        )

    def __init__(self, access_token: str, app_secret: str, verify_token: str, phone_number_id: str,
                 api_url: str = DEFAULT_API_URL) -> None:
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.phone_number_id = phone_number_id
        self.api = PlatformApi(api_url, {"Authorization": f"Bearer {access_token}"})
        self.seen = RecentIds(self.name())
        self.in_order = InOrder()
        self.conversations = WhatsAppConversations.from_environment(app_secret)
        if not (access_token and app_secret and verify_token and phone_number_id):
            logger.warning("WhatsApp channel not configured: its webhook refuses every request")

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
            for message, sender, phone in incoming_messages(body):
                if message.get("type") == "system":
                    await self._system(message, sender)
                if message.get("type") in UNANSWERED_TYPES:
                    continue  # a reaction, a system message: nothing the customer waits an answer to
                if not await self.seen.first_time(message.get("id")):
                    continue
                conversation = await self.conversations.conversation_of(sender)
                await queue_message(
                    self.in_order, pipeline, self.app_secret, sender.address,
                    functools.partial(self._handle, pipeline, agent, message, sender.address, phone),
                    conversation=conversation)
            return received()

        return webhook

    async def _system(self, message: Dict[str, Any], sender: Sender) -> None:
        """A user who changed their number keeps their conversation under the new one."""
        system = message.get("system") if isinstance(message.get("system"), dict) else {}
        if system.get("type") not in ("user_changed_number", "user_changed_user_id"):
            return
        new_wa_id = system.get("wa_id") if isinstance(system.get("wa_id"), str) else None
        new_wa_id = new_wa_id if new_wa_id and _WA_ID.fullmatch(new_wa_id) else None
        new_user_id = system.get("new_user_id") or system.get("user_id")
        new_user_id = new_user_id if isinstance(new_user_id, str) and _BSUID.fullmatch(new_user_id) else None
        if new_wa_id or new_user_id:
            await self.conversations.moved(sender, Sender(new_wa_id, new_user_id))

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # replies need the user's number, known only with their message

    def output_to(self, address: str) -> OutputChannel:
        """Messages to the user at `address` outside a turn (an adviser's: connectors.recipients)."""
        return WhatsAppOutput(self.api, self.phone_number_id, address)

    async def _handle(self, pipeline: ChannelPipeline, agent: Any, message: Dict[str, Any], reply_to: str,
                      phone: Optional[str], arrival: Arrival) -> None:
        output = WhatsAppOutput(self.api, self.phone_number_id, reply_to)
        if arrival.refusal is not None:
            await refuse(pipeline, output, agent, arrival, arrival.refusal)
            return
        await while_busy(functools.partial(output.mark_read_and_typing, message.get("id")), TYPING_RENEWAL_SECONDS,
                         self._answer(pipeline, output, agent, message, phone, arrival))

    async def _answer(self, pipeline: ChannelPipeline, output: "WhatsAppOutput", agent: Any, message: Dict[str, Any],
                      phone: Optional[str], arrival: Arrival) -> None:
        metadata = {"channel_phone": phone} if phone else {}
        kind = message.get("type")
        content = message.get(kind) if isinstance(kind, str) and isinstance(message.get(kind), dict) else {}
        if kind in ("image", "document"):
            declared_type = str(content.get("mime_type") or "")
            filename = content.get("filename") or f"photo{mimetypes.guess_extension(declared_type) or ''}"
            downloaded = await self._download(content.get("id"))
            await handle_file(pipeline, output, agent, arrival, downloaded, declared_type, str(filename), metadata)
            return
        if kind == "location":
            await self._location(pipeline, output, agent, arrival, content, metadata)
            return
        if kind == "contacts":
            cards = [((card.get("name") or {}).get("formatted_name") if isinstance(card.get("name"), dict) else None,
                      [phone.get("phone") for phone in json_items(card.get("phones"))])
                     for card in json_items(message.get("contacts"))]
            await handle_contact_cards(pipeline, output, agent, arrival, cards, metadata)
            return
        if kind in CHANNEL_ANSWERS:
            await answer(pipeline, output, agent, arrival, CHANNEL_ANSWERS[kind])
            return
        text = message_text(message)
        if text is None:
            logger.info("WhatsApp message of type %s: not readable, answered so", str(kind)[:30])
            await answer(pipeline, output, agent, arrival, "utter_channel_unsupported_message")
            return
        await handle_text(pipeline, output, agent, arrival, text, metadata)

    async def _location(self, pipeline: ChannelPipeline, output: "WhatsAppOutput", agent: Any, arrival: Arrival,
                        location: Dict[str, Any], metadata: Dict[str, Any]) -> None:
        """A shared location: the place of the loss during a claim declaration."""
        text = location_text(location.get("latitude"), location.get("longitude"), location.get("name"),
                             location.get("address"))
        if text is None or not await in_claim_declaration(agent, arrival.conversation):
            await answer(pipeline, output, agent, arrival, "utter_channel_location_outside_claim")
            return
        await handle_text(pipeline, output, agent, arrival, text, metadata)

    async def _download(self, media_id: Any) -> Optional[tuple]:
        """A media file: its URL from the Graph API, then the file itself (both with the token)."""
        if not isinstance(media_id, str) or not media_id.isalnum():
            return None
        media = await self.api.get_json(f"/{media_id}")
        if not isinstance(media, dict) or not isinstance(media.get("url"), str):
            return None
        return await self.api.download(media["url"])


# --- claim notices (E, issue 15: bot/notices.py sends them outside a turn) -------------------

def notice_template(name: str, language: str, parameters: List[str]) -> Dict[str, Any]:
    """A Cloud API template message (`type: template`): an approved template, its language,
    and the body's parameters in order ({{1}}, {{2}}...)."""
    template: Dict[str, Any] = {"name": name, "language": {"policy": "deterministic", "code": language}}
    if parameters:
        template["components"] = [{"type": "body", "parameters": [
            {"type": "text", "text": template_parameter(str(each))} for each in parameters]}]
    return {"type": "template", "template": template}


def template_parameter(text: str) -> str:
    """A template's parameter as the Cloud API takes it: no line break or tab, never more than
    four spaces in a row, a bounded length."""
    return shortened(re.sub(r"\s+", " ", text).strip(), TEMPLATE_PARAMETER_LIMIT)


TEMPLATE_PARAMETER_LIMIT = 1024


# Cloud API errors no retry mends: the message cannot be delivered to this user (131026),
# the 24-hour window is over for a free-form message (131047).
GONE_ERRORS = {131026, 131047}


async def send_notice(output: WhatsAppOutput, text: str, template: Optional[Dict[str, Any]] = None) -> Optional[str]:
    """A notice to `output`'s user: `text` (inside the 24-hour window) or, given, the template
    message built by notice_template (outside it). NOTICE_SENT (None) when the platform took
    every message, else why not (connectors.messaging)."""
    messages = [template] if template is not None else [
        {"type": "text", "text": {"body": piece, "preview_url": False}} for piece in split_text(text, TEXT_LIMIT)]
    for message in messages:
        status, answer = await output.api.post_answer(f"/{output.phone_number_id}/messages", {
            "messaging_product": "whatsapp", "recipient_type": "individual", **addressed_to(output.to), **message})
        if status is None or status >= 400:
            return RECIPIENT_GONE if meta_error(answer)[0] in GONE_ERRORS else NOTICE_FAILED
    return NOTICE_SENT
