"""Hostile input to the services: a clear 4xx, nothing written, the service still up."""
import json
import uuid

import pytest

from tests.reference_services.helpers import MARIE, table_counts
from tests.reference_services.test_claims import declaration
from tests.reference_services.test_http_conventions import WRITE_TABLES


def post(services, path, body, **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return services.post(path, data=data, headers={"Content-Type": "application/json",
                                                   "Idempotency-Key": uuid.uuid4().hex, **headers})


def assert_refused_and_nothing_written(services, send, status, code):
    before = table_counts(services, *WRITE_TABLES)
    response = send()
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert table_counts(services, *WRITE_TABLES) == before
    assert services.get("/health").status_code == 200  # still up
    return response.json()["error"]


CLAIMS = f"/v1/customers/{MARIE}/claims"
REQUESTS = f"/v1/customers/{MARIE}/requests"
HANDOFFS = "/v1/handoffs"
IDENTITY_CHECKS = f"/v1/customers/{MARIE}/identity-checks"

MISSING_FIELDS = {
    "a claim without its declaration": (CLAIMS, {}, {"contract_number", "claim_type", "occurred_on", "place",
                                                     "circumstances", "damage"}),
    "a request without its kind": (REQUESTS, {}, {"kind"}),
    "a hand-off without channel, reason nor summary": (HANDOFFS, {}, {"channel", "reason", "summary"}),
    "an identity check without birth date": (IDENTITY_CHECKS, {}, {"birth_date"}),
    "a code check without code": ("/v1/identity-checks/0123456789abcdef0123456789abcdef/verify", {}, {"code"}),
}


@pytest.mark.parametrize("path, body, fields", MISSING_FIELDS.values(), ids=MISSING_FIELDS.keys())
def test_missing_fields_are_each_named_and_nothing_is_written(services, path, body, fields):
    error = assert_refused_and_nothing_written(services, lambda: post(services, path, body), 422, "validation_error")
    assert fields <= set(error["fields"])


WRONG_TYPES = {
    "claim texts as a number and a list": (CLAIMS, declaration(place=42, damage=["parquet"]), {"place", "damage"}),
    "a claim date as a number": (CLAIMS, declaration(occurred_on=20261123), {"occurred_on"}),
    "a request kind as an object and details as a text": (REQUESTS, {"kind": {"a": 1}, "details": "x"},
                                                          {"kind", "details"}),
    "a hand-off summary as an object": (HANDOFFS, {"channel": "rest", "reason": "r", "summary": {"a": 1}},
                                        {"summary"}),
    "a birth date as a number": (IDENTITY_CHECKS, {"birth_date": 19850312, "conversation_id": "c",
                                                   "channel": "rest"}, {"birth_date"}),
    "an attestation kind as a boolean": (f"/v1/customers/{MARIE}/contracts/AUT-482913/attestations",
                                         {"kind": True}, {"kind"}),
}


@pytest.mark.parametrize("path, body, fields", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_wrong_types_are_refused_field_by_field_and_nothing_is_written(services, path, body, fields):
    error = assert_refused_and_nothing_written(services, lambda: post(services, path, body), 422, "validation_error")
    assert set(error["fields"]) == fields


UNREADABLE_TEXT = {
    "a NUL byte": "cuisine\x00",
    "control characters": "\x01\x02\x1b[31m",
    "a lone surrogate (invalid UTF-16 escaped in JSON)": "\ud800",
}


@pytest.mark.parametrize("text", UNREADABLE_TEXT.values(), ids=UNREADABLE_TEXT.keys())
@pytest.mark.parametrize("path, body, field", [
    (CLAIMS, lambda text: declaration(place=text), "place"),
    (REQUESTS, lambda text: {"kind": "quote", "details": {"description": text}}, "details"),
    (HANDOFFS, lambda text: {"channel": "rest", "reason": "demande", "summary": text}, "summary"),
], ids=["claim place", "request details", "hand-off summary"])
def test_binary_garbage_inside_valid_json_is_refused_and_nothing_is_written(services, path, body, field, text):
    error = assert_refused_and_nothing_written(services, lambda: post(services, path, body(text)),
                                               422, "validation_error")
    assert error["fields"] == {field: "caractères de contrôle ou invalides"}


def test_a_225_kb_body_is_refused_before_any_handler(services):
    body = json.dumps(declaration(circumstances="fuite " * 38_000))  # about 225 KB
    assert len(body) > 220_000
    assert_refused_and_nothing_written(services, lambda: post(services, CLAIMS, body), 413, "payload_too_large")


@pytest.mark.parametrize("depth", [33, 900, 5_000])
@pytest.mark.parametrize("path, body", [
    (REQUESTS, lambda nested: f'{{"kind": "quote", "details": {nested}}}'),
    (HANDOFFS, lambda nested: f'{{"channel": "rest", "reason": "demande", "summary": {nested}}}'),
    (CLAIMS, lambda nested: json.dumps(declaration())[:-1] + f', "witnesses": {nested}}}'),
], ids=["request details", "hand-off summary", "claim witnesses"])
def test_deeply_nested_json_is_refused_as_unreadable_and_nothing_is_written(services, path, body, depth):
    nested = '{"a": ' * depth + "1" + "}" * depth  # under 64 KB: read, then refused for its depth
    assert_refused_and_nothing_written(services, lambda: post(services, path, body(nested)), 400, "invalid_json")


def test_unknown_fields_are_refused_rather_than_ignored(services):
    error = assert_refused_and_nothing_written(
        services, lambda: post(services, CLAIMS, {**declaration(), "amount_paid_eur": 10_000}), 422, "validation_error")
    assert error["fields"] == {"amount_paid_eur": "champ inconnu"}


@pytest.mark.parametrize("customer_id", [
    "..%2F..%2Fetc%2Fpasswd", "1" * 3000, "%00", "10000001'%20OR%20'1'='1", "%C3%BC", "%FF",
], ids=["path traversal", "3000 digits", "NUL", "SQL injection", "non-ASCII", "invalid UTF-8"])
def test_hostile_customer_ids_in_paths_are_refused_before_anything_is_read(services, customer_id):
    """No identity assertion names them: even with a customer's own, another customer."""
    for method, path in (("GET", f"/v1/customers/{customer_id}/contracts"),
                         ("POST", f"/v1/customers/{customer_id}/claims")):
        before = table_counts(services, *WRITE_TABLES)
        response = services.request(method, path, json=declaration() if method == "POST" else None,
                                    identified_as=MARIE, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert (response.status_code, response.json()["error"]["code"]) in (
            (403, "identity_forbidden"), (404, "not_found"))
        assert table_counts(services, *WRITE_TABLES) == before
    assert services.get("/health").status_code == 200
