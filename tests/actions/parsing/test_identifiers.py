import pytest

from actions.parsing.identifiers import find_claim_number, find_contract_number, find_customer_id


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("AUT-482913", "AUT-482913"),
        ("aut 482913", "AUT-482913"),
        ("hab120034", "HAB-120034"),
        ("c'est le contrat Prv-300871 merci", "PRV-300871"),
        ('/inform{"contract_number": "PRO-700215"}', "PRO-700215"),
        ("san.123456", "SAN-123456"),
    ],
)
def test_contract_numbers_are_found_in_any_shape_and_made_canonical(text, canonical):
    assert find_contract_number(text) == canonical


@pytest.mark.parametrize("text", ["AUT-48291", "XYZ-482913", "aut 4829134", "rien"])
def test_things_that_are_not_contract_numbers_are_ignored(text):
    assert find_contract_number(text) is None


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("SIN-2026-000731", "SIN-2026-000731"),
        ("sin 2026 000731", "SIN-2026-000731"),
        ("mon dossier sin2026000731", "SIN-2026-000731"),
    ],
)
def test_claim_numbers_are_found_in_any_shape_and_made_canonical(text, canonical):
    assert find_claim_number(text) == canonical


@pytest.mark.parametrize(
    "text, customer_id",
    [("10000001", "10000001"), ("mon identifiant est 10 00 00 01", "10000001"), ("123456", None), ("123456789", None)],
)
def test_customer_ids_are_eight_digits(text, customer_id):
    assert find_customer_id(text) == customer_id


@pytest.mark.parametrize("find, text", [
    (find_customer_id, "mon identifiant est ١٢٣٤٥٦٧٨"),
    (find_customer_id, "１０００００００"),
    (find_contract_number, "aut ١٢٣٤٥٦"),
    (find_claim_number, "sin ٢٠٢٦ ١٢٣٤٥٦"),
], ids=["arabic-indic customer id", "full-width customer id", "arabic-indic contract", "arabic-indic claim"])
def test_digits_of_other_scripts_make_no_identifier(find, text):
    assert find(text) is None
