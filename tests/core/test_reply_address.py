"""The address notices may be sent to, signed by the channel the customer wrote on."""
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from bot.tracker_store import masked_event
from connectors.guard import RESERVED_METADATA_KEYS, client_metadata
from core import channel_assertion, reply_address
from core.masking import SECRET_KEYS, mask_value
from core.reply_address import ReplyAddress, ReplyAddressRefused, issue, verify

SECRET = "channel-secret-" + "0123456789" * 4
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
CONVERSATION = "whatsapp:0123456789abcdef0123456789abcdef"


def refusal(token, secret=SECRET, now=NOW, grace=timedelta(0)):
    with pytest.raises(ReplyAddressRefused) as refused:
        verify(secret, token, now, grace)
    return refused.value.code


@pytest.mark.parametrize("channel, address", [
    ("whatsapp", "33612345678"), ("telegram", "912345678"), ("messenger", "6543210987654321"),
    ("widget", "widget:4f1d2c3b-aaaa-bbbb-cccc-0123456789ab"),
])
def test_the_address_a_channel_signed_is_read_back_within_its_lifetime(channel, address):
    token = issue(SECRET, channel, address, CONVERSATION, NOW)
    assert verify(SECRET, token, NOW + timedelta(minutes=4)) == ReplyAddress(channel, address, CONVERSATION)


def test_none_is_required():
    assert refusal(None) == refusal("") == "reply_address_required"


def test_an_expired_one_is_taken_only_within_the_grace_given():
    token = issue(SECRET, "telegram", "912345678", CONVERSATION, NOW)
    later = NOW + timedelta(days=2)
    assert refusal(token, now=later) == "reply_address_invalid"
    assert verify(SECRET, token, later, timedelta(days=7)).address == "912345678"
    assert refusal(token, now=later, grace=timedelta(days=1)) == "reply_address_invalid"


def test_the_phone_line_and_the_rest_api_cannot_be_written_to_later():
    for channel in ("ivr", "rest"):
        with pytest.raises(ValueError):
            issue(SECRET, channel, "x", CONVERSATION, NOW)
        forged = jwt.encode({"iss": "oyat-channels", "aud": "oyat-notices", "channel": channel, "address": "x",
                             "conversation_id": CONVERSATION, "iat": 0, "exp": 2 ** 40}, SECRET, algorithm="HS256")
        assert refusal(forged) == "reply_address_invalid"


@pytest.mark.parametrize("token, secret", [
    (issue("another-secret-0123456789-0123456789", "whatsapp", "33612345678", CONVERSATION, NOW), SECRET),
    (issue(SECRET, "whatsapp", "33612345678", CONVERSATION, NOW), ""),
    (issue(SECRET, "whatsapp", "33612345678", CONVERSATION, NOW - timedelta(minutes=5)), SECRET),
    (channel_assertion.issue(SECRET, "+33612345678", "ivr", CONVERSATION, NOW), SECRET),
    (jwt.encode({"channel": "whatsapp", "address": "33612345678", "conversation_id": CONVERSATION,
                 "exp": 2 ** 40}, SECRET, algorithm="HS256"), SECRET),
    (jwt.encode({"iss": "oyat-channels", "aud": "oyat-notices", "channel": "whatsapp", "address": "33612345678",
                 "conversation_id": CONVERSATION, "iat": 0, "exp": 2 ** 40}, SECRET, algorithm="HS384"), SECRET),
    (jwt.encode({"iss": "oyat-channels", "aud": "oyat-notices", "channel": "whatsapp", "address": "",
                 "conversation_id": CONVERSATION, "iat": 0, "exp": 2 ** 40}, SECRET, algorithm="HS256"), SECRET),
    ("eyJhbGciOiJub25lIn0.e30.", SECRET),
    ("not a token", SECRET),
], ids=["another secret", "no secret here", "expired", "a phone assertion", "no issuer nor audience",
        "another algorithm", "no address", "unsigned", "garbage"])
def test_forged_expired_or_of_another_kind_is_invalid(token, secret):
    assert refusal(token, secret) == "reply_address_invalid"


def test_no_client_can_send_it_and_it_is_never_stored_nor_logged():
    assert reply_address.METADATA_KEY in RESERVED_METADATA_KEYS
    assert client_metadata({reply_address.METADATA_KEY: "x", "auth_token": "t"}) == {"auth_token": "t"}
    assert reply_address.METADATA_KEY in SECRET_KEYS
    token = issue(SECRET, "whatsapp", "33612345678", CONVERSATION, NOW)
    assert token not in str(mask_value({"metadata": {reply_address.METADATA_KEY: token}}))
    stored = masked_event({"event": "user", "text": "oui", "parse_data": {"text": "oui"},
                           "metadata": {reply_address.METADATA_KEY: token}}, None, set())
    assert token not in str(stored) and "33612345678" not in str(stored)


def test_the_channel_it_names_is_read_to_address_the_services_only():
    assert reply_address.claimed_channel(issue(SECRET, "messenger", "65432", CONVERSATION, NOW)) == "messenger"
    assert reply_address.claimed_channel("not a token") is None and reply_address.claimed_channel(None) is None
