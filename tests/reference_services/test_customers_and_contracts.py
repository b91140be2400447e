"""Customers and contracts: the demo data of spec §6, scoped to their owner."""
import pytest

from tests.reference_services.helpers import KARIM, MARIE, SOPHIE

CUSTOMERS = [
    (MARIE, "Marie", "Dupont", "1985-03-12", "marie.dupont@example.fr", "+33612345678", "Niort"),
    (KARIM, "Karim", "Benali", "1978-07-30", "karim.benali@example.fr", "+33723456789", "Lyon"),
    (SOPHIE, "Sophie", "Martin", "1990-11-05", "s.martin@example.fr", "+33698765432",
     "Poitiers"),
]


@pytest.mark.parametrize("customer_id, first, last, born, email, phone, city", CUSTOMERS)
def test_demo_customers_are_served_as_in_the_spec(services, customer_id, first, last, born,
                                                  email, phone, city):
    customer = services.get(f"/v1/customers/{customer_id}").json()
    assert (customer["first_name"], customer["last_name"], customer["birth_date"],
            customer["email"], customer["phone"], customer["address"]["city"]) == (
        first, last, born, email, phone, city)


CONTRACTS = {
    MARIE: {
        "AUT-482913": {"product": "auto", "status": "active", "franchise_eur": 300.0,
                       "bonus_malus": 0.68, "next_due_date": "2027-03-01",
                       "insured_vehicle": {"make": "Peugeot", "model": "208",
                                           "plate": "AB-123-CD"}},
        "HAB-120034": {"product": "habitation", "status": "active", "franchise_eur": 150.0,
                       "next_due_date": "2027-01-15"},
    },
    KARIM: {
        "AUT-559120": {"product": "auto", "status": "active",
                       "insured_vehicle": {"make": "Renault", "model": "Clio",
                                           "plate": "EF-456-GH"}},
        "PRV-300871": {"product": "prevoyance", "status": "active", "covered_claim_types": []},
    },
    SOPHIE: {
        "PRO-700215": {"product": "pro", "status": "active",
                       "covered_claim_types": ["responsabilite_civile"]},
        "HAB-099812": {"product": "habitation", "status": "terminated",
                       "end_date": "2025-06-30", "next_due_date": None,
                       "covered_claim_types": []},
    },
}


@pytest.mark.parametrize("customer_id", CONTRACTS)
def test_demo_contracts_are_served_as_in_the_spec(services, customer_id):
    contracts = services.get(f"/v1/customers/{customer_id}/contracts").json()["contracts"]
    by_number = {contract["contract_number"]: contract for contract in contracts}
    assert set(by_number) == set(CONTRACTS[customer_id])
    for number, facts in CONTRACTS[customer_id].items():
        for key, value in facts.items():
            assert by_number[number][key] == value, (number, key)


def test_beneficiary_clause_is_served(services):
    contract = services.get(f"/v1/customers/{KARIM}/contracts/PRV-300871").json()
    assert contract["beneficiary_clause"].startswith("Mon conjoint, à défaut mes enfants")


def test_home_contract_covers_the_household_claim_types(services):
    contract = services.get(f"/v1/customers/{MARIE}/contracts/HAB-120034").json()
    assert contract["covered_claim_types"] == [
        "bris_de_glace", "vol", "degat_des_eaux", "incendie", "catastrophe_naturelle",
        "responsabilite_civile"]
    assert contract["insured_address"] == {"street": "14 rue Ricard", "postcode": "79000",
                                           "city": "Niort"}


def test_foreign_contract_is_answered_like_an_unknown_one(services):
    foreign = services.get(f"/v1/customers/{KARIM}/contracts/AUT-482913")
    unknown = services.get(f"/v1/customers/{KARIM}/contracts/AUT-000000")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    assert foreign.json()["error"]["code"] == "contract_not_found"


def test_contract_number_is_found_whatever_its_case(services):
    assert services.get(f"/v1/customers/{MARIE}/contracts/aut-482913").status_code == 200


@pytest.mark.parametrize("path", ["", "/contracts", "/contracts/AUT-482913"])
def test_unknown_customer_is_not_found(services, path):
    response = services.get(f"/v1/customers/99999999{path}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"
