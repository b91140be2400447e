"""Contracts chosen from what the customer says, against the demo customers' contracts as
the policy service lists them: a description fits a contract or it fits none, never
another one."""

import pytest

from actions.common.contracts import choose_contract, contracts_described
from core.service_contract import Contract


def contract(**members):
    """A contract as the policy service answers it (what the choice does not read left plain)."""
    return Contract.parse_obj({
        "customer_id": "10000001", "start_date": "2024-01-01", "end_date": None, "next_due_date": None,
        "premium_eur": 30.0, "premium_frequency": "mensuelle", "payment_method": "prelevement",
        "franchise_eur": None, "bonus_malus": None, "beneficiary_clause": None, "insured_activity": None,
        "guarantees": [], "covered_claim_types": [], **members})


def auto(number, make, model, plate, status="active"):
    return contract(contract_number=number, product="auto", status=status, label=f"Auto Confort – {make} {model}",
                    insured_vehicle={"make": make, "model": model, "plate": plate}, insured_address=None)


def home(number, label, street, postcode, city, status="active", product="habitation"):
    return contract(contract_number=number, product=product, status=status, label=label, insured_vehicle=None,
                    insured_address={"street": street, "postcode": postcode, "city": city})


MARIE = [auto("AUT-482913", "Peugeot", "208", "AB-123-CD"),
         home("HAB-120034", "Habitation Confort – appartement 3 pièces", "14 rue Ricard", "79000", "Niort")]
KARIM = [auto("AUT-559120", "Renault", "Clio", "EF-456-GH"),
         contract(contract_number="PRV-300871", product="prevoyance", status="active", label="Prévoyance Famille",
                  insured_vehicle=None, insured_address=None)]
SOPHIE = [home("PRO-700215", "RC Décennale Artisan du bâtiment – plomberie", "8 rue de la Cathédrale", "86000",
               "Poitiers", product="pro"),
          home("HAB-099812", "Habitation Essentielle – studio", "3 rue Carnot", "86000", "Poitiers",
               status="terminated")]
TWO_CARS = MARIE + [auto("AUT-100200", "Renault", "Clio", "GH-789-JK")]


def numbers(match):
    return [c.contract_number for c in match.contracts]


@pytest.mark.parametrize("text", ["celle de la Peugeot", "la peugeot 208", "ma 208", "la voiture ab123cd",
                                  "AB 123 CD", "pour l'auto immatriculée AB-123-CD", "aut 482 913"])
def test_marie_s_car_is_found_by_make_model_plate_or_number(text):
    assert choose_contract(MARIE, text, []).contract_number == "AUT-482913"


@pytest.mark.parametrize("text, products", [("l'appartement", ["habitation"]), ("l'appart de Niort", ["habitation"]),
                                            ("rue ricard", []), ("celui du 79000", []), ("à niort", [])])
def test_marie_s_flat_is_found_by_product_street_or_town(text, products):
    assert choose_contract(MARIE, text, products).contract_number == "HAB-120034"


@pytest.mark.parametrize("text, products", [
    ("la Clio", []),                     # Karim's car, not hers
    ("ma peugeot 308", []),              # another Peugeot
    ("la voiture EF-456-GH", ["auto"]),  # another plate
    ("l'appartement rue Carnot", ["habitation"]),
    ("mon ancienne voiture", ["auto"]),  # she has no terminated car contract
    ("AUT-559120", []),
])
def test_a_description_that_fits_none_of_marie_s_contracts_finds_none(text, products):
    match = contracts_described(MARIE, text, products)
    assert match.not_found and match.chosen is None


def test_sophie_s_former_studio_is_her_terminated_contract_and_never_her_active_one():
    match = contracts_described(SOPHIE, "l'attestation de mon ancien studio rue Carnot", ["habitation"])
    assert numbers(match) == ["HAB-099812"] and match.chosen.status == "terminated"
    assert choose_contract(SOPHIE, "mon ancien studio", []).contract_number == "HAB-099812"
    assert choose_contract(SOPHIE, "celui de la rue Carnot", []).contract_number == "HAB-099812"
    assert choose_contract(SOPHIE, "la décennale", ["pro"]).contract_number == "PRO-700215"


def test_a_town_two_contracts_share_is_ambiguous():
    match = contracts_described(SOPHIE, "celui de Poitiers", [])
    assert match.ambiguous and sorted(numbers(match)) == ["HAB-099812", "PRO-700215"]


def test_a_product_two_contracts_share_is_ambiguous_and_the_make_tells_them_apart():
    assert contracts_described(TWO_CARS, "la voiture", ["auto"]).ambiguous
    assert choose_contract(TWO_CARS, "la clio", ["auto"]).contract_number == "AUT-100200"
    assert choose_contract(TWO_CARS, "gh789jk", []).contract_number == "AUT-100200"


@pytest.mark.parametrize("text", ["", "une attestation svp", "il me faut le papier pour mon employeur"])
def test_saying_nothing_about_a_contract_describes_none(text):
    match = contracts_described(KARIM, text, [])
    assert not match.described and numbers(match) == ["AUT-559120", "PRV-300871"]


def test_a_year_is_not_taken_for_a_car_model():
    assert not contracts_described(MARIE, "mon contrat de 2008", []).described


@pytest.mark.parametrize("text", ["l'attestation pour le 28 novembre", "mon contrat depuis le 15"])
def test_a_day_is_not_taken_for_a_car_model(text):
    assert not contracts_described(MARIE, text, []).described
