"""Claims service: reading claims, filing them once, refusing what cannot be filed."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from tests.reference_services.helpers import KARIM, MARIE, SOPHIE, count, query, today_paris


def claims_url(customer_id):
    return f"/v1/customers/{customer_id}/claims"


def declaration(**changes):
    body = {
        "contract_number": "HAB-120034",
        "claim_type": "degat_des_eaux",
        "occurred_on": (today_paris() - timedelta(days=1)).isoformat(),
        "place": "Cuisine de l'appartement",
        "circumstances": "Fuite du lave-vaisselle pendant la nuit.",
        "damage": "Parquet de la cuisine gonflé sur 4 m².",
        "third_party": None,
        "witnesses": "Aucun",
        "channel": "widget",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def file(services, body, customer_id=MARIE, key=None):
    return services.post(claims_url(customer_id), json=body,
                         headers={"Idempotency-Key": key or uuid.uuid4().hex})


def highest_number_this_year(services):
    year = today_paris().year
    rows = query(services, "SELECT MAX(claim_number) FROM claims WHERE claim_number LIKE ?",
                 (f"SIN-{year}-%",))
    return int(rows[0][0].rsplit("-", 1)[1]) if rows[0][0] else 0


def test_demo_claims_are_served_with_their_phase_and_history(services):
    marie = services.get(f"{claims_url(MARIE)}/SIN-2026-000731").json()
    assert marie["contract_number"] == "HAB-120034"
    assert marie["claim_type"] == "degat_des_eaux"
    assert marie["phase"] == "expertise"
    assert marie["expert_appointment"] == "2026-12-03T10:00:00+01:00"
    assert [step["phase"] for step in marie["phase_history"]] == [
        "declaration", "ouverture", "expertise"]
    karim = services.get(f"{claims_url(KARIM)}/SIN-2026-000415").json()
    assert (karim["claim_type"], karim["phase"], karim["amount_paid_eur"]) == (
        "bris_de_glace", "cloture", 412.0)
    assert karim["phase_history"][-1]["phase"] == "cloture"
    assert services.get(claims_url(SOPHIE)).json() == {"claims": []}


def test_claims_are_listed_newest_first(services):
    assert file(services, declaration()).status_code == 201
    claims = services.get(claims_url(MARIE)).json()["claims"]
    declared = [claim["declared_at"] for claim in claims]
    assert len(claims) >= 2
    assert declared == sorted(declared, reverse=True)
    assert all(claim["customer_id"] == MARIE for claim in claims)


def test_foreign_claim_number_is_answered_like_an_unknown_one(services):
    foreign = services.get(f"{claims_url(MARIE)}/SIN-2026-000415")
    unknown = services.get(f"{claims_url(MARIE)}/SIN-2026-999999")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    assert foreign.json()["error"]["code"] == "claim_not_found"


def test_claim_number_is_found_whatever_its_case(services):
    assert services.get(f"{claims_url(MARIE)}/sin-2026-000731").status_code == 200


def test_unknown_customer_has_no_claims(services):
    response = services.get(claims_url("99999999"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"


def test_filed_claim_continues_the_numbering_of_the_year(services):
    expected = highest_number_this_year(services) + 1
    response = file(services, declaration())
    assert response.status_code == 201
    claim = response.json()
    assert claim["claim_number"] == f"SIN-{today_paris().year}-{expected:06d}"
    assert response.headers["Location"] == f"{claims_url(MARIE)}/{claim['claim_number']}"
    assert claim["phase"] == "declaration"
    assert [step["phase"] for step in claim["phase_history"]] == ["declaration"]
    assert claim["amount_paid_eur"] == 0
    assert services.get(response.headers["Location"]).json() == claim


def test_demo_numbers_are_not_reused_in_2026(services):
    claim = file(services, declaration()).json()
    year, number = claim["claim_number"].split("-")[1:]
    if year == "2026":
        assert int(number) > 731


def test_filing_twice_with_the_same_idempotency_key_creates_one_claim(services):
    key = uuid.uuid4().hex
    first = file(services, declaration(), key=key)
    again = file(services, declaration(), key=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert count(services, "claims", "customer_id = ? AND idempotency_key = ?",
                 (MARIE, key)) == 1


def test_an_idempotency_key_belongs_to_one_customer(services):
    key = uuid.uuid4().hex
    marie = file(services, declaration(), key=key)
    karim = file(services, declaration(contract_number="AUT-559120", claim_type="bris_de_glace"),
                 customer_id=KARIM, key=key)
    assert (marie.status_code, karim.status_code) == (201, 201)
    assert marie.json()["claim_number"] != karim.json()["claim_number"]


def test_parallel_filings_get_distinct_consecutive_numbers(services):
    first_expected = highest_number_this_year(services) + 1
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: file(services, declaration()), range(8)))
    assert [r.status_code for r in responses] == [201] * 8
    numbers = sorted(int(r.json()["claim_number"].rsplit("-", 1)[1]) for r in responses)
    assert numbers == list(range(first_expected, first_expected + 8))


def test_parallel_retries_with_one_key_create_one_claim(services):
    key = uuid.uuid4().hex
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: file(services, declaration(), key=key), range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["claim_number"] for r in responses}) == 1
    assert count(services, "claims", "idempotency_key = ?", (key,)) == 1


def test_claim_dated_in_the_future_is_refused_and_nothing_written(services):
    key = uuid.uuid4().hex
    before = count(services, "claims")
    tomorrow = (today_paris() + timedelta(days=1)).isoformat()
    response = file(services, declaration(occurred_on=tomorrow), key=key)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "date_in_future"
    assert count(services, "claims") == before
    assert count(services, "claims", "idempotency_key = ?", (key,)) == 0


REFUSALS = [
    # customer, contract, claim type, occurred on, status, code
    (MARIE, "HAB-120034", "degat_des_eaux", "2019-01-14", 422, "date_before_contract_start"),
    (MARIE, "AUT-482913", "degat_des_eaux", None, 422, "claim_type_not_covered"),
    (KARIM, "PRV-300871", "vol", None, 422, "claim_type_not_covered"),
    (SOPHIE, "HAB-099812", "degat_des_eaux", "2025-03-01", 422, "contract_not_active"),
    (MARIE, "AUT-559120", "bris_de_glace", None, 404, "contract_not_found"),
    (MARIE, "AUT-000000", "bris_de_glace", None, 404, "contract_not_found"),
    ("99999999", "HAB-120034", "degat_des_eaux", None, 404, "customer_not_found"),
]


@pytest.mark.parametrize("customer_id, contract, claim_type, occurred_on, status, code", REFUSALS)
def test_claims_that_cannot_be_filed_are_refused_and_nothing_written(
    services, customer_id, contract, claim_type, occurred_on, status, code
):
    before = count(services, "claims")
    body = declaration(contract_number=contract, claim_type=claim_type)
    if occurred_on:
        body["occurred_on"] = occurred_on
    response = file(services, body, customer_id=customer_id)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert count(services, "claims") == before


def test_uncovered_claim_type_answer_lists_what_the_contract_covers(services):
    response = file(services, declaration(contract_number="AUT-482913"))
    assert response.json()["error"]["covered_claim_types"] == [
        "accident_auto", "bris_de_glace", "vol", "incendie", "catastrophe_naturelle",
        "responsabilite_civile"]


FIELD_ERRORS = {
    "missing place": (declaration(place=...), {}, "place"),
    "empty damage": (declaration(damage="   "), {}, "damage"),
    "unknown claim type": (declaration(claim_type="tempete"), {}, "claim_type"),
    "french date": (declaration(occurred_on="03/11/2026"), {}, "occurred_on"),
    "impossible date": (declaration(occurred_on="2026-02-30"), {}, "occurred_on"),
    "text too long": (declaration(circumstances="x" * 2001), {}, "circumstances"),
    "wrong type": (declaration(damage=12), {}, "damage"),
    "unknown field": (declaration(colour="bleu"), {}, "colour"),
    "no idempotency key": (declaration(), {"Idempotency-Key": ""}, "Idempotency-Key"),
    "long idempotency key": (declaration(), {"Idempotency-Key": "k" * 101}, "Idempotency-Key"),
}


@pytest.mark.parametrize("body, headers, field", FIELD_ERRORS.values(), ids=FIELD_ERRORS.keys())
def test_declaration_errors_name_the_faulty_field_and_nothing_is_written(
    services, body, headers, field
):
    before = count(services, "claims")
    headers = {"Idempotency-Key": uuid.uuid4().hex, **headers}
    response = services.post(claims_url(MARIE), json=body, headers=headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert count(services, "claims") == before


def test_empty_declaration_lists_every_required_field(services):
    response = services.post(claims_url(MARIE), headers={"Idempotency-Key": "empty"})
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {
        "contract_number", "claim_type", "occurred_on", "place", "circumstances", "damage"}
