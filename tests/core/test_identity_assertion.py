"""Identity assertions (core/identity_assertion.py): signed by the services' secret only,
short-lived, bound to one customer, one conversation and how the identity was verified."""
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from core import identity_assertion
from core.identity_assertion import AUDIENCE, ISSUER, AssertionRefused, issue, verify

SECRET = "services-identity-secret-0123456789abcdef"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def issued(customer_id="10000001", verified_by="sms_code", now=NOW, lifetime=HOUR, secret=SECRET):
    token, _ = issue(secret, customer_id, verified_by, "rest", "rest:conversation-1", now, lifetime)
    return token


def refusal(token, now=NOW, grace=timedelta(0), secret=SECRET):
    with pytest.raises(AssertionRefused) as refused:
        verify(token, secret, now, grace)
    return refused.value.code


def signed(claims, secret=SECRET, algorithm="HS256"):
    return jwt.encode(claims, secret, algorithm=algorithm)


def valid_claims(**changes):
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "10000001", "verified_by": "sms_code", "channel": "rest",
              "conversation_id": "c", "iat": int(NOW.timestamp()), "exp": int((NOW + HOUR).timestamp())}
    return {**claims, **changes}


def test_an_issued_assertion_says_who_how_and_where_until_when():
    token, expires_at = issue(SECRET, "10000002", "caller_number", "ivr", "ivr:call-7", NOW, HOUR)
    asserted = verify(token, SECRET, NOW + timedelta(minutes=59))
    assert (asserted.customer_id, asserted.verified_by, asserted.channel, asserted.conversation_id) == (
        "10000002", "caller_number", "ivr", "ivr:call-7")
    assert asserted.expires_at == expires_at == NOW + HOUR


@pytest.mark.parametrize("token", [None, ""])
def test_no_assertion_is_identity_required(token):
    assert refusal(token) == "identity_required"


@pytest.mark.parametrize("token", [
    pytest.param(issued(secret="another-secret-of-the-same-length-0123"), id="another-secret"),
    pytest.param(signed(valid_claims(), algorithm="HS512"), id="another-algorithm"),
    pytest.param(jwt.encode(valid_claims(), key=None, algorithm="none"), id="unsigned"),
    pytest.param(signed(valid_claims(aud="espace-client")), id="another-audience"),
    pytest.param(signed(valid_claims(iss="someone")), id="another-issuer"),
    pytest.param(signed({k: v for k, v in valid_claims().items() if k != "conversation_id"}), id="no-conversation"),
    pytest.param(signed({k: v for k, v in valid_claims().items() if k != "exp"}), id="no-expiry"),
    pytest.param(signed(valid_claims(sub="1000000")), id="not-a-customer-id"),
    pytest.param(signed(valid_claims(sub=10000001)), id="numeric-subject"),
    pytest.param(signed(valid_claims(verified_by="trust_me")), id="unknown-verification"),
    pytest.param(signed(valid_claims(exp=float(NOW.timestamp() + 60))), id="fractional-expiry"),
    pytest.param(signed({"sub": "10000001", "exp": int((NOW + HOUR).timestamp())}), id="an-espace-client-token"),
    pytest.param("not.a.token", id="garbage"),
    pytest.param(issued() + "x", id="tampered"),
])
def test_a_forged_or_foreign_token_is_identity_invalid(token):
    assert refusal(token) == "identity_invalid"


def test_without_a_secret_nothing_is_valid():
    assert refusal(issued(), secret="") == "identity_invalid"
    with pytest.raises(ValueError):
        issue("", "10000001", "sms_code", "rest", "c", NOW, HOUR)


def test_an_assertion_expires_at_its_expiry_not_a_second_later():
    token = issued()
    verify(token, SECRET, NOW + HOUR - timedelta(seconds=1))
    assert refusal(token, now=NOW + HOUR) == "identity_expired"


def test_a_grace_accepts_an_assertion_expired_within_it_only():
    token, week = issued(), timedelta(days=7)
    assert verify(token, SECRET, NOW + HOUR + timedelta(days=6), week).customer_id == "10000001"
    assert refusal(token, now=NOW + HOUR + week, grace=week) == "identity_expired"


def test_only_the_known_ways_of_verifying_an_identity_are_issued():
    assert identity_assertion.VERIFIED_BY == ("espace_client_token", "sms_code", "caller_number")
    with pytest.raises(ValueError):
        issue(SECRET, "10000001", "birth_date", "rest", "c", NOW, HOUR)
