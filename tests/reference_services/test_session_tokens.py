"""The policy service verifies the espace-client session tokens (spec §5) and answers the
identity assertion of their customer; the action server no longer holds their secret."""
import jwt
import pytest

from devtools.espace_client import issue_session_token
from tests.conftest import TEST_ESPACE_CLIENT_JWT_SECRET
from tests.reference_services.helpers import KARIM, MARIE, count

CHECKS = "/v1/espace-client-token-checks"
WHERE = {"conversation_id": "rest:conversation-9", "channel": "rest"}


def session_token(customer_id, minutes=30, secret=TEST_ESPACE_CLIENT_JWT_SECRET):
    return issue_session_token(customer_id, secret, minutes)


def test_a_valid_token_gives_its_customers_assertion_for_this_conversation(services):
    answer = services.post(CHECKS, json={"token": session_token(KARIM), **WHERE})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["customer_id"], body["verified"]) == (KARIM, True)
    claims = jwt.decode(body["identity_assertion"], options={"verify_signature": False})
    assert (claims["sub"], claims["verified_by"], claims["conversation_id"], claims["channel"]) == (
        KARIM, "espace_client_token", "rest:conversation-9", "rest")
    contracts = services.get(f"/v1/customers/{KARIM}/contracts", identified_as=None,
                             headers={"X-Identity-Assertion": body["identity_assertion"]})
    assert contracts.status_code == 200 and contracts.json()["contracts"]


def test_a_valid_token_of_a_customer_the_insurer_does_not_know_is_a_clear_404(services):
    answer = services.post(CHECKS, json={"token": session_token("10000099"), **WHERE})
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "customer_not_found")
    assert "identity_assertion" not in answer.text


@pytest.mark.parametrize("token", [
    pytest.param(session_token(MARIE, minutes=-1), id="expired"),
    pytest.param(session_token(MARIE, secret="someone-elses-secret-of-32-bytes-at-least"), id="forged"),
    pytest.param(jwt.encode({"sub": MARIE, "exp": 4102444800}, TEST_ESPACE_CLIENT_JWT_SECRET, algorithm="HS512"),
                 id="wrong-algorithm"),
    pytest.param(jwt.encode({"sub": MARIE, "exp": 4102444800}, key=None, algorithm="none"), id="unsigned"),
    pytest.param(jwt.encode({"sub": MARIE}, TEST_ESPACE_CLIENT_JWT_SECRET, algorithm="HS256"), id="no-expiry"),
    pytest.param(jwt.encode({"sub": "10000001\n", "exp": 4102444800}, TEST_ESPACE_CLIENT_JWT_SECRET,
                            algorithm="HS256"), id="subject-with-a-newline"),
    pytest.param(jwt.encode({"sub": "١٠٠٠٠٠٠١", "exp": 4102444800}, TEST_ESPACE_CLIENT_JWT_SECRET,
                            algorithm="HS256"), id="subject-in-other-digits"),
    pytest.param("not a token", id="garbage"),
])
def test_a_bad_token_is_refused(services, token):
    answer = services.post(CHECKS, json={"token": token, **WHERE})
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "session_token_invalid")


@pytest.mark.parametrize("body", [
    {"token": "x"},
    {"token": session_token(MARIE), "conversation_id": "c"},
    {"token": {"sub": MARIE}, **WHERE},
    {"token": session_token(MARIE), **WHERE, "customer_id": MARIE},
])
def test_a_check_that_does_not_say_where_or_what_is_invalid(services, body):
    answer = services.post(CHECKS, json=body)
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_error")


def test_the_service_token_is_still_required(services):
    answer = services.post(CHECKS, json={"token": session_token(MARIE), **WHERE}, authorized=False)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "unauthorized")


def test_checking_a_token_writes_nothing(services):
    tables = ("customers", "outbox", "one_time_codes", "handoffs")
    before = [count(services, table) for table in tables]
    services.post(CHECKS, json={"token": session_token(MARIE), **WHERE})
    assert [count(services, table) for table in tables] == before
