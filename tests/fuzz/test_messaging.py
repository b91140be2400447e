"""The messaging apps' webhooks (connectors.whatsapp, telegram, messenger over
connectors.messaging) served for real, on any body the platform could sign: shaped like the
documented payloads with any value in any field, or nothing like them. The webhook answers
200 to a signed JSON object and 400 to anything else, as the platforms expect, no message
fails in the background, and what reaches the assistant is screened, pseudonymous and carries
a verified number only in E.164."""
import itertools
import logging
import re
from typing import Any, Callable, Dict, List

import pytest
import requests
from hypothesis import example, given, settings
from hypothesis import strategies as st

from connectors.guard import MAX_MESSAGE_LENGTH, screen_text
from connectors.messenger import MessengerInput
from connectors.telegram import TelegramInput
from connectors.whatsapp import WhatsAppInput
from tests.connectors.channel_server import ChannelServer
from tests.connectors.fake_platform import FakePlatformApi, meta_signed
from tests.fuzz.storing_agent import StoringAgent
from tests.fuzz.strategies import deep_json, hostile_text, json_bytes, json_values, shortcut_text, wide_json

APP_SECRET = "test-fuzz-app-secret-0123456789"
VERIFY_TOKEN = "test-fuzz-verify-token"
BOT_TOKEN = "123456789:AAE-test-fuzz-bot-token"
TELEGRAM_SECRET = "test-fuzz-telegram-secret-0123"
E164 = re.compile(r"\+[1-9][0-9]{7,14}")

_serial_numbers = itertools.count(10 ** 9)


def documented(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return strategy


def anything_instead(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return strategy | json_values


def payloads(either: Callable[[st.SearchStrategy], st.SearchStrategy]) -> Dict[str, st.SearchStrategy]:
    """Each platform's payloads (its documentation's shapes), every field's value given by
    `either`: `documented` keeps the shapes (whole messages reach the assistant, any text in
    them), `anything_instead` may put any JSON value in place of any field."""
    texts = either(st.sampled_from(["bonjour", "/greet", '/inform{"claim_type": "vol"}', "", "#" + "0" * 32])
                   | hostile_text | shortcut_text | st.text(min_size=2_001, max_size=5_000))
    platform_ids = st.from_regex(r"[1-9][0-9]{7,14}", fullmatch=True) | hostile_text
    # Message and update ids: the platforms never reuse one (a reused one is a redelivery, which
    # is dropped), and examples drawn again must not be taken for redeliveries.
    message_ids = either(st.builds(lambda: f"fuzz.{next(_serial_numbers)}") | hostile_text)
    update_ids = either(st.builds(lambda: next(_serial_numbers)))

    # WhatsApp Cloud API, webhooks reference: messages of every type.
    media = either(st.fixed_dictionaries({"id": either(st.text("abcdef0123456789", min_size=1, max_size=20)),
                                          "mime_type": texts}, optional={"filename": texts}))
    reply = either(st.fixed_dictionaries({"id": texts, "title": texts}))
    contents = {
        "text": either(st.fixed_dictionaries({"body": texts})),
        "interactive": either(st.sampled_from(["button_reply", "list_reply"]).flatmap(
            lambda kind: st.fixed_dictionaries({"type": either(st.just(kind)), kind: reply}))),
        "button": either(st.fixed_dictionaries({}, optional={"payload": texts, "text": texts})),
        "image": media, "document": media, "location": json_values,
    }
    kinds = ["text", "interactive", "button", "image", "document", "location"]  # the first more often

    @st.composite
    def whatsapp_messages(draw: st.DrawFn) -> Any:
        kind = draw(st.sampled_from(kinds))
        message = {"from": draw(either(platform_ids)), "id": draw(message_ids),
                   "type": draw(either(st.just(kind))), "timestamp": "1749416383", kind: draw(contents[kind])}
        return message

    whatsapp = st.fixed_dictionaries({
        "object": either(st.just("whatsapp_business_account")),
        "entry": either(st.lists(either(st.fixed_dictionaries({
            "id": either(st.just("102290129340398")),
            "changes": either(st.lists(either(st.fixed_dictionaries({
                "field": either(st.just("messages")),
                "value": either(st.fixed_dictionaries({
                    "messaging_product": either(st.just("whatsapp")),
                    "contacts": either(st.lists(either(st.fixed_dictionaries(
                        {"wa_id": either(platform_ids)}, optional={"profile": json_values})), min_size=1, max_size=2)),
                    "messages": either(st.lists(either(whatsapp_messages()), min_size=1, max_size=2)),
                }, optional={"statuses": json_values})),
            })), min_size=1, max_size=2)),
        })), min_size=1, max_size=2)),
    })

    # Telegram Bot API, Update: a message (text, photo, document) or a button press.
    chats = either(st.fixed_dictionaries({"id": either(st.integers()),
                                          "type": either(st.sampled_from(["private", "group", "channel"]))}))
    file_ids = either(hostile_text)
    telegram_contents = (
        st.fixed_dictionaries({"text": texts})
        | st.fixed_dictionaries({"photo": either(st.lists(either(st.fixed_dictionaries({"file_id": file_ids})),
                                                          min_size=1, max_size=2))})
        | st.fixed_dictionaries({"document": either(st.fixed_dictionaries({"file_id": file_ids}, optional={
            "mime_type": texts, "file_name": texts}))})
    )
    telegram_messages = either(st.builds(lambda envelope, content: {**envelope, **content}, st.fixed_dictionaries(
        {"message_id": either(st.integers()), "chat": chats}), telegram_contents))
    telegram = (st.fixed_dictionaries({"update_id": update_ids, "message": telegram_messages})
                | st.fixed_dictionaries({"update_id": update_ids, "callback_query": either(
                    st.fixed_dictionaries({"id": either(hostile_text), "data": texts, "message": telegram_messages}))}))

    # Messenger, page webhook: messages (texts, quick replies, attachments) and postbacks.
    attachments = either(st.lists(either(st.fixed_dictionaries({
        "type": either(st.sampled_from(["image", "file", "audio", "location"])),
        # What the channel would download: the fake platform's URL (it has no such file), or no URL.
        "payload": either(st.fixed_dictionaries({}, optional={
            "url": either(st.sampled_from(["{fake}/photo.jpg", "ftp://example.fr/a.pdf", "javascript:alert(1)"]))})),
    })), min_size=1, max_size=2))
    senders = {
        "sender": either(st.fixed_dictionaries({"id": either(st.from_regex(r"[0-9]{1,20}", fullmatch=True)
                                                             | hostile_text)})),
        "timestamp": either(st.integers()),
    }
    messenger_messages = (
        st.fixed_dictionaries({"mid": message_ids, "text": texts}, optional={"is_echo": either(st.booleans())})
        | st.fixed_dictionaries({"mid": message_ids, "text": texts,
                                 "quick_reply": either(st.fixed_dictionaries({"payload": texts}))})
        | st.fixed_dictionaries({"mid": message_ids, "attachments": attachments})
    )
    events = either(
        st.fixed_dictionaries({**senders, "message": either(messenger_messages)})
        | st.fixed_dictionaries({**senders, "postback": either(st.fixed_dictionaries({}, optional={
            "payload": texts, "title": texts, "mid": message_ids}))})
    )
    messenger = st.fixed_dictionaries({
        "object": either(st.just("page")),
        "entry": either(st.lists(either(st.fixed_dictionaries({
            "id": either(st.just("104729384756123")),
            "messaging": either(st.lists(events, min_size=1, max_size=2)),
        })), min_size=1, max_size=2)),
    })
    return {"whatsapp": whatsapp, "telegram": telegram, "messenger": messenger}


DOCUMENTED, ANYTHING_INSTEAD = payloads(documented), payloads(anything_instead)


class Platform:
    """One messaging channel served for real, its API a local fake, and how to sign for it."""

    def __init__(self, name: str, make_channel: Callable[[str], Any], sign: Callable[[bytes], Dict[str, str]],
                 bodies: st.SearchStrategy, user_ids: Callable[[Dict[str, Any]], List[str]]) -> None:
        self.name, self.make_channel, self.sign, self.bodies, self.user_ids = (
            name, make_channel, sign, bodies, user_ids)

    def start(self, api: FakePlatformApi) -> "Platform":
        self.api = api
        self.server = ChannelServer(self.make_channel(api.url), StoringAgent()).start()
        return self

    def deliver(self, raw: bytes) -> requests.Response:
        """Posts a signed body, then waits until the messages it brought have been handled."""
        raw = raw.replace(b"{fake}", self.api.url.encode())
        answer = self.server.post(raw, self.sign(raw))
        self.server.run(self.server.channel.in_order.drain())
        return answer


def meta_signature(raw: bytes) -> Dict[str, str]:
    return meta_signed(raw, APP_SECRET)[1]


def strings(*values: Any) -> List[str]:
    return [value for value in values if isinstance(value, str) and len(value) >= 8]


def whatsapp_users(body: Any) -> List[str]:
    found = []
    for entry in body.get("entry") or [] if isinstance(body, dict) and isinstance(body.get("entry"), list) else []:
        for change in (entry.get("changes") if isinstance(entry, dict) and isinstance(entry.get("changes"), list)
                       else []):
            value = change.get("value") if isinstance(change, dict) else None
            messages = value.get("messages") if isinstance(value, dict) else None
            for message in messages if isinstance(messages, list) else []:
                found += strings(message.get("from")) if isinstance(message, dict) else []
    return found


def messenger_users(body: Any) -> List[str]:
    found = []
    for entry in body.get("entry") or [] if isinstance(body, dict) and isinstance(body.get("entry"), list) else []:
        events = entry.get("messaging") if isinstance(entry, dict) else None
        for event in events if isinstance(events, list) else []:
            sender = event.get("sender") if isinstance(event, dict) else None
            found += strings(sender.get("id")) if isinstance(sender, dict) else []
    return found


def telegram_users(body: Any) -> List[str]:
    callback = body.get("callback_query") if isinstance(body, dict) else None
    message = callback.get("message") if isinstance(callback, dict) else body.get("message")
    chat = message.get("chat") if isinstance(message, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    return strings(str(chat_id)) if isinstance(chat_id, int) else []


PLATFORMS = {
    "whatsapp": lambda: Platform(
        "whatsapp", lambda url: WhatsAppInput("test-access-token", APP_SECRET, VERIFY_TOKEN, "106540352242922",
                                              api_url=f"{url}/v21.0"),
        meta_signature, DOCUMENTED["whatsapp"] | ANYTHING_INSTEAD["whatsapp"], whatsapp_users),
    "telegram": lambda: Platform(
        "telegram", lambda url: TelegramInput(BOT_TOKEN, TELEGRAM_SECRET, api_url=url),
        lambda raw: {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        DOCUMENTED["telegram"] | ANYTHING_INSTEAD["telegram"], telegram_users),
    "messenger": lambda: Platform(
        "messenger", lambda url: MessengerInput("test-page-token", APP_SECRET, VERIFY_TOKEN, api_url=f"{url}/v21.0"),
        meta_signature, DOCUMENTED["messenger"] | ANYTHING_INSTEAD["messenger"], messenger_users),
}


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def fake_api():
    api = FakePlatformApi().start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def errors():
    """Errors logged while a webhook or its messages were handled (a failed message is
    logged by connectors.messaging, an exception in a route by sanic)."""
    recorder = Recorder()
    for name in ("connectors", "sanic.error"):
        logging.getLogger(name).addHandler(recorder)
    yield recorder.records
    for name in ("connectors", "sanic.error"):
        logging.getLogger(name).removeHandler(recorder)


@pytest.fixture(scope="module", params=sorted(PLATFORMS))
def platform(request, fake_api, generous_rate_limits):
    running = PLATFORMS[request.param]().start(fake_api)
    yield running
    running.server.stop()


def check_delivery(platform: Platform, errors: List[logging.LogRecord], raw: bytes, users: List[str]) -> None:
    errors.clear()
    received_before = len(platform.server.agent.received)
    answer = platform.deliver(raw)
    assert answer.status_code in (200, 400, 413), answer.text
    assert errors == [], [record.getMessage() for record in errors]
    received = platform.server.agent.received[received_before:]
    if answer.status_code != 200:
        assert answer.json()["error"]["code"] and received == []
        return
    assert answer.json() == {"status": "received"}
    for message in received:
        assert 0 < len(message.text) <= MAX_MESSAGE_LENGTH and screen_text(message.text).text == message.text
        assert message.input_channel == platform.name
        assert not any(user in message.sender_id for user in users), message.sender_id  # pseudonymous
        phone = message.metadata.get("channel_phone")
        assert phone is None or E164.fullmatch(phone), phone
        assert "attachments" not in message.metadata or message.text == "/attach_document"
        # No button was offered to these users: no /intent shortcut reaches the assistant.
        assert not message.text.startswith("/") or not message.text.replace("/", "").strip() or (
            message.text == "/attach_document" and "attachments" in message.metadata), message.text


@settings(max_examples=30, deadline=5000)
@given(data=st.data())
def test_any_signed_payload_shaped_like_the_platforms_is_acknowledged_and_handled_without_failure(
        platform, errors, data):
    body = data.draw(platform.bodies, label="body")
    check_delivery(platform, errors, json_bytes(body), platform.user_ids(body))


def test_the_payloads_shaped_like_the_platforms_reached_the_assistant(platform):
    """The properties above are not vacuous: whole messages got through (run after them)."""
    assert len(platform.server.agent.received) >= 3


@settings(max_examples=25, deadline=5000)
@given(raw=st.binary(max_size=200) | json_values.map(json_bytes) | deep_json().map(str.encode)
       | wide_json().map(str.encode))
@example(raw=b"[" * 100_000)
@example(raw=b'{"object": "page", "entry": ' + b"[" * 5_000 + b"]" * 5_000 + b"}")
@example(raw=b"\xff\xfe{}")
def test_any_signed_body_gets_200_for_an_object_and_a_json_400_otherwise(platform, errors, raw):
    check_delivery(platform, errors, raw, [])
    # The same body unsigned, or signed with another secret.
    forged = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"} if platform.name == "telegram" else meta_signed(
        raw, "not-the-app-secret")[1]
    for headers in ({}, forged):
        assert platform.server.post(raw, headers).status_code == 403


@settings(max_examples=30, deadline=5000)
@given(params=st.dictionaries(st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "other"]),
                              st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=30)))
@example(params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
def test_the_subscription_check_echoes_the_challenge_only_for_the_verify_token(platform, params):
    if platform.name == "telegram":
        return  # Telegram has no subscription check
    answer = requests.get(platform.server.url, params=params, timeout=10)
    if params.get("hub.mode") == "subscribe" and params.get("hub.verify_token") == VERIFY_TOKEN:
        assert answer.status_code == 200 and answer.text == params.get("hub.challenge", "")
    else:
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
