"""No personal data, code or secret in logs or error bodies."""
import logging
import re
from types import SimpleNamespace

from sqlalchemy.exc import OperationalError

from reference_services.errors import JsonErrorHandler
from tests.conftest import TEST_DOCUMENT_LINK_SECRET, TEST_SERVICES_API_TOKEN
from tests.reference_services.helpers import latest_message, new_customer


def test_service_logs_carry_no_personal_data_codes_or_secrets(services):
    customer = new_customer(services, birth_date="1987-06-21")
    cid = customer["customer_id"]
    asked = {"conversation_id": "test-logs", "channel": "rest", "source": "203.0.113.7"}
    services.post(f"/v1/customers/{cid}/identity-checks", json={"birth_date": "1987-06-22", **asked})
    check_id = services.post(f"/v1/customers/{cid}/identity-checks",
                             json={"birth_date": "1987-06-21", **asked}).json()["check_id"]
    code = re.search(r"\d{6}", latest_message(services, customer["phone"])["body"]).group()
    services.post(f"/v1/identity-checks/{check_id}/verify", json={"code": code, **asked})
    services.post(f"/v1/customers/{cid}/password-reset")
    reset_token = latest_message(services, customer["email"])["body"].split("jeton=")[1].split()[0]
    attestation = services.post("/v1/customers/10000001/contracts/AUT-482913/attestations",
                                json={"send_by_email": True}).json()
    signature = attestation["url"].split("signature=")[1]

    log = services.log_path.read_text(errors="replace")
    for secret in (customer["email"], customer["phone"], customer["phone"][3:], "1987-06-21", "203.0.113.7",
                   "1987-06-22", code, reset_token, signature, "marie.dupont@example.fr",
                   TEST_SERVICES_API_TOKEN, TEST_DOCUMENT_LINK_SECRET):
        assert secret not in log


def test_unexpected_errors_answer_generically_and_log_no_exception_text(caplog):
    handler = JsonErrorHandler()
    request = SimpleNamespace(route=None)
    try:
        raise RuntimeError("birth date 1985-03-12 of marie.dupont@example.fr")
    except RuntimeError as error:
        with caplog.at_level(logging.ERROR, logger="reference_services.errors"):
            response = handler.default(request, error)
    assert response.status == 500
    assert response.body.decode() == (
        '{"error":{"code":"internal_error","message":'
        '"Une erreur interne est survenue. Réessayez dans quelques instants."}}')
    assert "RuntimeError" in caplog.text
    assert "marie.dupont" not in caplog.text and "1985-03-12" not in caplog.text


def test_unreachable_database_is_a_service_unavailable_error():
    error = OperationalError("SELECT 1", {}, Exception("connection refused"))
    response = JsonErrorHandler().default(SimpleNamespace(route=None), error)
    assert response.status == 503
    assert b"service_unavailable" in response.body
