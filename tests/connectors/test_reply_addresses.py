"""Each message of a channel that can write later carries the address notices may go to,
signed by the channel (core/reply_address.py); the others never do."""
from datetime import timedelta

import pytest

from connectors.reply_addresses import signed_reply_address
from connectors.telegram import TelegramInput
from connectors.whatsapp import WhatsAppInput
from core import reply_address
from core.clock import now_utc
from tests.connectors import test_telegram, test_whatsapp
from tests.connectors.channel_server import ChannelServer

SECRET = "test-reply-address-secret-0123456789"


@pytest.fixture
def signing(monkeypatch):
    monkeypatch.setenv(reply_address.SECRET_VARIABLE, SECRET)


def read_address(message) -> reply_address.ReplyAddress:
    return reply_address.verify(SECRET, message.metadata[reply_address.METADATA_KEY], now_utc())


def test_a_whatsapp_message_carries_the_number_it_came_from(signing, fake_api):
    channel = WhatsAppInput(test_whatsapp.ACCESS_TOKEN, test_whatsapp.APP_SECRET, test_whatsapp.VERIFY_TOKEN,
                            test_whatsapp.PHONE_NUMBER_ID, api_url=f"{fake_api.url}/v21.0")
    server = ChannelServer(channel).start()
    try:
        test_whatsapp.deliver(server, test_whatsapp.webhook([test_whatsapp.text_message("oui")]))
        server.settle()
        [message] = server.agent.received
    finally:
        server.stop()
    assert read_address(message) == reply_address.ReplyAddress("whatsapp", test_whatsapp.WA_ID, message.sender_id)
    # never the number in clear, anywhere else than in the signed address
    assert test_whatsapp.WA_ID not in message.sender_id


def test_a_telegram_message_carries_its_chat(signing, fake_api):
    server = ChannelServer(TelegramInput(test_telegram.BOT_TOKEN, test_telegram.SECRET_TOKEN,
                                         api_url=fake_api.url)).start()
    try:
        test_telegram.deliver(server, test_telegram.message_update("arreter les notifications"))
        server.settle()
        [message] = server.agent.received
    finally:
        server.stop()
    assert read_address(message) == reply_address.ReplyAddress("telegram", str(test_telegram.CHAT_ID),
                                                                message.sender_id)


def test_without_the_secret_no_address_is_given(fake_api):
    server = ChannelServer(TelegramInput(test_telegram.BOT_TOKEN, test_telegram.SECRET_TOKEN,
                                         api_url=fake_api.url)).start()
    try:
        test_telegram.deliver(server, test_telegram.message_update("bonjour"))
        server.settle()
        [message] = server.agent.received
    finally:
        server.stop()
    assert reply_address.METADATA_KEY not in message.metadata


async def test_the_widget_is_reached_in_its_conversation_and_the_phone_line_and_rest_never(signing):
    token = await signed_reply_address("widget", "widget:4f1d2c3b-aaaa-bbbb-cccc-0123456789ab")
    assert reply_address.verify(SECRET, token, now_utc() + timedelta(minutes=4)) == reply_address.ReplyAddress(
        "widget", "widget:4f1d2c3b-aaaa-bbbb-cccc-0123456789ab", "widget:4f1d2c3b-aaaa-bbbb-cccc-0123456789ab")
    assert await signed_reply_address("rest", "rest:someone") is None
    assert await signed_reply_address("ivr", "ivr:call-1") is None
    # a messaging conversation whose address is not known (nothing arrived from it here)
    assert await signed_reply_address("messenger", "messenger:never-seen") is None


def test_a_client_cannot_send_one_of_its_own(signing):
    from connectors.pipeline import ChannelPipeline

    forged = reply_address.issue(SECRET, "widget", "widget:someone-else", "widget:someone-else", now_utc())
    metadata, refusal = ChannelPipeline.client_metadata({reply_address.METADATA_KEY: forged})
    assert refusal is None and metadata == {}
