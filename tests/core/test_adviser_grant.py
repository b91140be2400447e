"""An adviser grant opens one conversation, for the scope and the time it says, and only
when signed with the grant secret."""
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from core import adviser_grant
from core.adviser_grant import GrantRefused

SECRET = "grant-secret-of-the-tests-0123456789"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
CONVERSATION = "widget:3f2a"


def grant(scope="write", secret=SECRET, conversation_id=CONVERSATION, now=NOW):
    token, _ = adviser_grant.issue(secret, adviser_login="conseiller", adviser_name="Camille Martin",
                                   reference="TRF-2026-000001", conversation_id=conversation_id,
                                   channel="widget", scope=scope, now=now)
    return token


def refusal(token, **kwargs):
    with pytest.raises(GrantRefused) as refused:
        adviser_grant.verify(token, SECRET, kwargs.pop("now", NOW), kwargs.pop("conversation_id", CONVERSATION),
                             **kwargs)
    return refused.value.code


def test_a_grant_names_the_adviser_the_hand_off_and_its_scope():
    verified = adviser_grant.verify(grant(), SECRET, NOW + timedelta(minutes=5), CONVERSATION, scope="write")
    assert (verified.adviser_login, verified.adviser_name, verified.reference, verified.channel) == (
        "conseiller", "Camille Martin", "TRF-2026-000001", "widget")
    assert verified.writes and verified.expires_at == NOW + adviser_grant.GRANT_LIFETIME


def test_a_grant_opens_no_other_conversation():
    assert refusal(grant(conversation_id="widget:other")) == "grant_other_conversation"


def test_a_read_grant_does_not_write():
    assert adviser_grant.verify(grant("read"), SECRET, NOW, CONVERSATION).scope == "read"
    assert refusal(grant("read"), scope="write") == "grant_read_only"


def test_an_expired_grant_opens_nothing():
    assert refusal(grant(), now=NOW + adviser_grant.GRANT_LIFETIME) == "grant_expired"


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", grant(secret="another-secret-entirely-0123456789")])
def test_a_missing_malformed_or_foreign_grant_opens_nothing(token):
    assert refusal(token) in {"grant_required", "grant_invalid"}


def test_an_identity_assertion_signed_with_the_same_secret_is_no_grant():
    assertion = jwt.encode({"iss": "oyat-policy", "aud": "oyat-services", "sub": "10000001"}, SECRET,
                           algorithm="HS256")
    assert refusal(assertion) == "grant_invalid"


def test_no_secret_verifies_nothing():
    with pytest.raises(GrantRefused):
        adviser_grant.verify(grant(), "", NOW, CONVERSATION)
