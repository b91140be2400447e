"""Requests that need approval (DEM-) and hand-offs to a human (TRF-)."""
import re
from datetime import timedelta

import pytest

from tests.reference_services.helpers import KARIM, MARIE, count, query, today_paris

DELAYS = {
    "payment_method_change": 5, "coverage_change": 5, "termination": 10,
    "beneficiary_change": 10, "personal_info_change": 3, "quote": 2, "complaint": 10,
    "data_privacy": 30,
}


@pytest.mark.parametrize("kind, days", DELAYS.items())
def test_request_gets_a_reference_and_its_stated_delay(services, kind, days):
    response = services.post(f"/v1/customers/{MARIE}/requests",
                             json={"kind": kind, "details": {"note": "demande de test"}})
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(rf"DEM-{today_paris().year}-\d{{6}}", body["reference"])
    assert (body["kind"], body["status"], body["delay_days"]) == (kind, "received", days)
    assert body["expected_by"] == (today_paris() + timedelta(days=days)).isoformat()


def test_request_references_follow_each_other(services):
    first, second = (
        services.post(f"/v1/customers/{MARIE}/requests", json={"kind": "quote"}).json()
        for _ in range(2)
    )
    number = int(first["reference"].rsplit("-", 1)[1])
    assert second["reference"].endswith(f"-{number + 1:06d}")


def test_request_may_name_one_of_the_customers_contracts(services):
    response = services.post(f"/v1/customers/{KARIM}/requests",
                             json={"kind": "beneficiary_change", "contract_number": "prv-300871",
                                   "details": {"new_clause": "Mes enfants, par parts égales."}})
    assert response.status_code == 201
    assert response.json()["contract_number"] == "PRV-300871"


@pytest.mark.parametrize("customer_id, body, status, code", [
    (MARIE, {"kind": "refund"}, 422, "validation_error"),
    (MARIE, {}, 422, "validation_error"),
    (MARIE, {"kind": "quote", "details": "devis auto"}, 422, "validation_error"),
    (MARIE, {"kind": "termination", "contract_number": "AUT-559120"}, 404, "contract_not_found"),
    ("99999999", {"kind": "quote"}, 404, "customer_not_found"),
])
def test_refused_requests_write_nothing(services, customer_id, body, status, code):
    before = count(services, "customer_requests")
    response = services.post(f"/v1/customers/{customer_id}/requests", json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert count(services, "customer_requests") == before


@pytest.mark.parametrize("customer_id", [None, MARIE])
def test_handoff_is_filed_and_waits_for_an_adviser(services, customer_id):
    response = services.post("/v1/handoffs", identified_as=customer_id, json={
        "customer_id": customer_id, "channel": "widget", "reason": "demande explicite",
        "summary": "La cliente veut parler à un conseiller de son sinistre.",
    })
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(rf"TRF-{today_paris().year}-\d{{6}}", body["reference"])
    assert body["status"] == "waiting"


@pytest.mark.parametrize("contact, stored", [
    ("06 12 34 56 78", "+33612345678"), ("+32 470 12 34 56", "+32470123456"),
    ("visiteur.anonyme@example.fr", "visiteur.anonyme@example.fr"), (None, None),
])
def test_handoff_keeps_its_conversation_and_the_call_back_contact(services, contact, stored):
    response = services.post("/v1/handoffs", json={
        "channel": "widget", "reason": "demande explicite", "summary": "Un visiteur veut un conseiller.",
        "conversation_id": "9f1c2e7a-5b3d-4c8e-a1f0-6d2b7e4c9a15", "contact": contact,
    })
    assert response.status_code == 201
    reference = response.json()["reference"]
    assert query(services, "SELECT conversation_id, contact, status, taken_by FROM handoffs "
                           "WHERE reference = ?", [reference]) == [
        ("9f1c2e7a-5b3d-4c8e-a1f0-6d2b7e4c9a15", stored, "waiting", None)]
    # Filing is the hand-off's first recorded event, by nobody in particular.
    assert query(services, "SELECT e.kind, e.adviser_id, e.text FROM handoff_events e JOIN handoffs h "
                           "ON h.id = e.handoff_id WHERE h.reference = ?", [reference]) == [
        ("filed", None, None)]


HANDOFF = {"channel": "widget", "reason": "r", "summary": "s"}


@pytest.mark.parametrize("body, identified_as, status, code", [
    ({"channel": "widget", "reason": "colère"}, None, 422, "validation_error"),
    ({**HANDOFF, "contact": "0612"}, None, 422, "validation_error"),
    ({**HANDOFF, "contact": "pas un contact"}, None, 422, "validation_error"),
    ({**HANDOFF, "contact": "arobase@sansdomaine"}, None, 422, "validation_error"),
    ({**HANDOFF, "contact": "a" * 250 + "@x.fr"}, None, 422, "validation_error"),
    ({**HANDOFF, "conversation_id": "c" * 129}, None, 422, "validation_error"),
    ({**HANDOFF, "conversation_id": "c\x00d"}, None, 422, "validation_error"),
    ({"customer_id": "99999999", "channel": "ivr", "reason": "r", "summary": "s"}, "99999999",
     404, "customer_not_found"),
    ({"customer_id": 10000001, "channel": "ivr", "reason": "r", "summary": "s"}, MARIE,
     422, "validation_error"),
    ({"customer_id": MARIE, "channel": "ivr", "reason": "r", "summary": "s"}, None,
     401, "identity_required"),
])
def test_refused_handoffs_write_nothing(services, body, identified_as, status, code):
    before = count(services, "handoffs")
    response = services.post("/v1/handoffs", json=body, identified_as=identified_as)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert count(services, "handoffs") == before
