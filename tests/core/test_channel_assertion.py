"""The phone number a channel verified, signed by it for the policy service."""
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from connectors.guard import RESERVED_METADATA_KEYS, client_metadata
from core import channel_assertion
from core.channel_assertion import ChannelAssertionRefused, issue, verify
from core.masking import SECRET_KEYS, mask_value

SECRET = "channel-secret-" + "0123456789" * 4
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
PHONE, CONVERSATION = "+33612345678", "ivr:call-1"


def refusal(token, secret=SECRET, phone=PHONE, channel="ivr", conversation_id=CONVERSATION, now=NOW):
    with pytest.raises(ChannelAssertionRefused) as refused:
        verify(token, secret, phone=phone, channel=channel, conversation_id=conversation_id, now=now)
    return refused.value.code


def test_the_lines_assertion_of_the_number_for_its_call_is_accepted():
    verify(issue(SECRET, PHONE, "ivr", CONVERSATION, NOW), SECRET, phone=PHONE, channel="ivr",
           conversation_id=CONVERSATION, now=NOW + timedelta(minutes=4))


def test_none_is_required():
    assert refusal(None) == refusal("") == "channel_assertion_required"


@pytest.mark.parametrize("token, secret, phone, channel, conversation_id, now", [
    (issue("another-secret-0123456789-0123456789", PHONE, "ivr", CONVERSATION, NOW), SECRET, PHONE, "ivr", CONVERSATION, NOW),
    (issue(SECRET, PHONE, "ivr", CONVERSATION, NOW), "", PHONE, "ivr", CONVERSATION, NOW),
    (issue(SECRET, PHONE, "ivr", CONVERSATION, NOW), SECRET, PHONE, "ivr", CONVERSATION, NOW + timedelta(minutes=5)),
    (issue(SECRET, PHONE, "ivr", CONVERSATION, NOW), SECRET, "+33612345679", "ivr", CONVERSATION, NOW),
    (issue(SECRET, PHONE, "ivr", CONVERSATION, NOW), SECRET, PHONE, "ivr", "ivr:call-2", NOW),
    (issue(SECRET, PHONE, "whatsapp", CONVERSATION, NOW), SECRET, PHONE, "whatsapp", CONVERSATION, NOW),
    (issue(SECRET, PHONE, "whatsapp", CONVERSATION, NOW), SECRET, PHONE, "ivr", CONVERSATION, NOW),
    (jwt.encode({"phone": PHONE, "channel": "ivr", "conversation_id": CONVERSATION, "exp": 2 ** 40},
                SECRET, algorithm="HS256"), SECRET, PHONE, "ivr", CONVERSATION, NOW),
    (jwt.encode({"iss": "oyat-policy", "aud": "oyat-services", "phone": PHONE, "channel": "ivr",
                 "conversation_id": CONVERSATION, "iat": 0, "exp": 2 ** 40}, SECRET, algorithm="HS256"),
     SECRET, PHONE, "ivr", CONVERSATION, NOW),
    (jwt.encode({"iss": "oyat-channels", "aud": "oyat-policy", "phone": PHONE, "channel": "ivr",
                 "conversation_id": CONVERSATION, "iat": 0, "exp": 2 ** 40}, SECRET, algorithm="HS384"),
     SECRET, PHONE, "ivr", CONVERSATION, NOW),
    ("eyJhbGciOiJub25lIn0.e30.", SECRET, PHONE, "ivr", CONVERSATION, NOW),
    ("not a token", SECRET, PHONE, "ivr", CONVERSATION, NOW),
], ids=["another secret", "no secret here", "expired", "another phone", "another conversation",
        "a channel that sends codes", "another channel's", "no issuer nor audience", "an identity assertion's",
        "another algorithm", "unsigned", "garbage"])
def test_forged_expired_or_of_another_call_is_invalid(token, secret, phone, channel, conversation_id, now):
    assert refusal(token, secret, phone, channel, conversation_id, now) == "channel_assertion_invalid"


def test_no_client_can_send_it_and_it_is_never_stored_nor_logged():
    assert channel_assertion.METADATA_KEY in RESERVED_METADATA_KEYS
    assert client_metadata({channel_assertion.METADATA_KEY: "x", "auth_token": "t"}) == {"auth_token": "t"}
    assert channel_assertion.METADATA_KEY in SECRET_KEYS
    token = issue(SECRET, PHONE, "ivr", CONVERSATION, NOW)
    assert token not in str(mask_value({"metadata": {channel_assertion.METADATA_KEY: token}}))
