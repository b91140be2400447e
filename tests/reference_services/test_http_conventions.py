"""Conventions shared by every route: token, JSON errors, size limit, nothing written."""
import pytest

from tests.conftest import TEST_SERVICES_API_TOKEN
from tests.reference_services.helpers import MARIE, table_counts

WRITE_TABLES = ("claims", "customer_requests", "handoffs", "outbox", "generated_documents",
                "one_time_codes", "alerts")  # alerts: C (issue 18)

PROTECTED_ROUTES = [
    ("GET", f"/v1/customers/{MARIE}"),
    ("GET", f"/v1/customers/{MARIE}/contracts"),
    ("GET", f"/v1/customers/{MARIE}/contracts/AUT-482913"),
    ("POST", f"/v1/customers/{MARIE}/contracts/AUT-482913/attestations"),
    ("POST", f"/v1/customers/{MARIE}/password-reset"),
    ("POST", f"/v1/customers/{MARIE}/identifier-reminder"),
    ("POST", f"/v1/customers/{MARIE}/requests"),
    ("POST", "/v1/handoffs"),
    ("POST", f"/v1/customers/{MARIE}/identity-checks"),
    ("POST", "/v1/identity-checks/0123456789abcdef/verify"),
    ("GET", f"/v1/customers/{MARIE}/claims"),
    ("POST", f"/v1/customers/{MARIE}/claims"),
    ("GET", f"/v1/customers/{MARIE}/claims/SIN-2026-000731"),
]


@pytest.mark.parametrize("authorization", [
    None, "Bearer wrong-token", "Basic dGVzdA==", "Bearer", f"Token {TEST_SERVICES_API_TOKEN}",
    f"Bearer {TEST_SERVICES_API_TOKEN}x",
])
@pytest.mark.parametrize("method, path", PROTECTED_ROUTES)
def test_requests_without_service_token_are_refused(services, method, path, authorization):
    before = table_counts(services, *WRITE_TABLES)
    headers = {"Authorization": authorization} if authorization else {}
    response = services.request(method, path, authorized=False, headers=headers,
                                json={"kind": "quote"} if method == "POST" else None)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert table_counts(services, *WRITE_TABLES) == before


@pytest.mark.parametrize("path", ["/health", "/v1/openapi.json"])
def test_health_and_openapi_need_no_token(services, path):
    assert services.get(path, authorized=False).status_code == 200


def test_unknown_route_gets_a_json_not_found(services):
    response = services.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found",
                                         "message": "Cette adresse n'existe pas."}}


def test_wrong_method_gets_a_json_method_not_allowed(services):
    response = services.request("DELETE", f"/v1/customers/{MARIE}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET"


MALFORMED_BODIES = {
    "truncated": b'{"kind": "quote"',
    "not json": b"kind=quote",
    "binary garbage": bytes(range(256)),
    "invalid utf-8": b'{"kind": "\xff\xfe"}',
    "deeply nested": b"[" * 20000,
}
WRITING_ROUTES = [
    f"/v1/customers/{MARIE}/requests",
    f"/v1/customers/{MARIE}/claims",
    "/v1/handoffs",
    f"/v1/customers/{MARIE}/contracts/AUT-482913/attestations",
    f"/v1/customers/{MARIE}/identity-checks",
]


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
@pytest.mark.parametrize("path", WRITING_ROUTES)
def test_malformed_json_gets_invalid_json_and_writes_nothing(services, path, body):
    before = table_counts(services, *WRITE_TABLES)
    response = services.post(path, data=body, headers={"Content-Type": "application/json",
                                                       "Idempotency-Key": "malformed"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert table_counts(services, *WRITE_TABLES) == before


@pytest.mark.parametrize("body", ['["quote"]', '"quote"', "42", "null"])
def test_json_that_is_not_an_object_is_a_validation_error(services, body):
    response = services.post(f"/v1/customers/{MARIE}/requests", data=body)
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"body": "un objet JSON est attendu"}


@pytest.mark.parametrize("path", WRITING_ROUTES)
def test_oversized_body_gets_payload_too_large_and_writes_nothing(services, path):
    before = table_counts(services, *WRITE_TABLES)
    body = '{"kind": "quote", "details": {"text": "' + "x" * 70_000 + '"}}'
    response = services.post(path, data=body, headers={"Idempotency-Key": "too-large"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert table_counts(services, *WRITE_TABLES) == before


def test_error_bodies_hold_only_the_error(services):
    response = services.get("/v1/customers/99999999")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"error": {
        "code": "customer_not_found",
        "message": "Aucun client ne correspond à cet identifiant.",
    }}
