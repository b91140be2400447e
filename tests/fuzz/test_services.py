"""The services' JSON bodies (reference_services.validation and every route that reads one) on any body: a
4xx with a stable error code and nothing written, or the documented success; never a server
error. The services run for real (tests.conftest.running_services), on a database of their own."""
import json
import uuid

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reference_services.errors import ERRORS
from tests.fuzz.strategies import deep_json, hostile_text, json_values, wide_json
from tests.reference_services.helpers import table_counts

MARIE = "10000001"
# Tables a refused request must leave as they were.
WRITE_TABLES = ("claims", "customer_requests", "handoffs", "outbox", "generated_documents", "one_time_codes")

dates = st.dates().map(str) | st.sampled_from(["1985-03-12", "2026-02-30", "12/03/1985", "1985-3-12", "١٩٨٥-٠٣-١٢"])
field_values = hostile_text | json_values | dates | st.from_regex(r"[0-9]{6}", fullmatch=True)


def bodies(*fields: str) -> st.SearchStrategy:
    """Objects with the route's fields (any value, any of them missing) and maybe others."""
    return st.fixed_dictionaries({}, optional=dict.fromkeys(fields, field_values)).flatmap(
        lambda body: st.dictionaries(hostile_text, json_values, max_size=2).map(lambda extra: {**extra, **body})
        | st.just(body))


ROUTES = {
    "identity check": (f"/v1/customers/{MARIE}/identity-checks", ("birth_date", "conversation_id", "channel", "source")),
    "phone identity check": ("/v1/phone-identity-checks",
                             ("phone_number", "birth_date", "send_code", "conversation_id", "channel", "source",
                              "channel_assertion")),
    "code check": ("/v1/identity-checks/0123456789abcdef0123456789abcdef/verify",
                   ("code", "conversation_id", "channel", "source")),
    "espace-client token check": ("/v1/espace-client-token-checks", ("token", "conversation_id", "channel")),
    "request": (f"/v1/customers/{MARIE}/requests", ("kind", "details", "contract_number")),
    "hand-off": ("/v1/handoffs", ("customer_id", "channel", "reason", "summary")),
    "claim": (f"/v1/customers/{MARIE}/claims", ("contract_number", "claim_type", "occurred_on", "place",
                                               "circumstances", "damage", "third_party", "witnesses", "channel",
                                               "attachments")),
    "claim document": (f"/v1/customers/{MARIE}/claims/SIN-2026-000731/documents", ("upload_id",)),
    "attestation": (f"/v1/customers/{MARIE}/contracts/AUT-482913/attestations", ("kind", "send_by_email")),
}

raw_bodies = (
    st.binary(max_size=200)
    | json_values.map(lambda value: json.dumps(value).encode())
    | deep_json().map(str.encode)
    | wide_json().map(str.encode)
)


def post(services, path: str, raw: bytes, idempotency_key: str):
    return services.post(path, data=raw, headers={"Content-Type": "application/json",
                                                  "Idempotency-Key": idempotency_key})


def assert_answered_by_the_contract(services, path: str, raw: bytes, idempotency_key: str) -> None:
    before = table_counts(services, *WRITE_TABLES)
    answer = post(services, path, raw, idempotency_key)
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        error = answer.json()["error"]
        assert error["code"] in ERRORS and ERRORS[error["code"]][0] == answer.status_code, error
        assert isinstance(error["message"], str) and error["message"]
        assert table_counts(services, *WRITE_TABLES) == before


@pytest.mark.parametrize("route", ROUTES, ids=list(ROUTES))
@settings(max_examples=15, deadline=5000)
@given(data=st.data())
def test_any_body_shaped_like_the_routes_gets_its_answer_or_a_4xx_with_a_stable_code(fuzzed_services, route, data):
    path, fields = ROUTES[route]
    body = data.draw(bodies(*fields), label="body")
    key = data.draw(st.uuids().map(str) | hostile_text.filter(lambda key: key.isascii() and key.isprintable()),
                    label="Idempotency-Key")
    assert_answered_by_the_contract(fuzzed_services, path, json.dumps(body).encode(), key)


@pytest.mark.parametrize("route", ROUTES, ids=list(ROUTES))
@settings(max_examples=8, deadline=5000)
@given(raw=raw_bodies)
@example(raw=b"[" * 60_000)
@example(raw=b'{"details": ' + b'{"a":' * 5_000 + b"1" + b"}" * 5_000 + b"}")
@example(raw=b'{"kind": "quote", "details": ' + b'{"a":' * 900 + b"1" + b"}" * 900 + b"}")
@example(raw=b'{"summary": "\\ud800", "channel": "rest", "reason": "x"}')
def test_any_body_at_all_gets_a_json_answer_never_a_server_error(fuzzed_services, route, raw):
    path, _ = ROUTES[route]
    assert_answered_by_the_contract(fuzzed_services, path, raw, uuid.uuid4().hex)
