import pytest

from core.parsing.identifiers import (
    claim_number_spans,
    contract_number_spans,
    find_claim_number,
    find_claim_reference,
    find_contract_number,
    find_customer_id,
    find_plates,
    plate_spans,
)


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


@pytest.mark.parametrize("text", ["aut 482 913", "AUT.482.913", "Aut-482-913", "c'est l'AUT482913"])
def test_contract_numbers_in_groups_of_three_are_found(text):
    assert find_contract_number(text) == "AUT-482913"


@pytest.mark.parametrize("text", ["automobile 482913", "prof 482913"])
def test_words_that_start_like_a_product_code_are_no_contract_number(text):
    assert find_contract_number(text) is None


@pytest.mark.parametrize(
    "text",
    ["sin 2026 731", "SIN2026-731", "Sin-2026-000731", "sin2026000731", "sinistre 2026 731", "SIN 2026 000731",
     "ou en est le SIN-2026-731 svp"],
)
def test_full_claim_numbers_with_or_without_zeros_and_dashes_are_canonical(text):
    assert find_claim_number(text) == "SIN-2026-000731"
    reference = find_claim_reference(text)
    assert reference.canonical == "SIN-2026-000731" and reference.matches("SIN-2026-000731")


@pytest.mark.parametrize(
    "text",
    ["dossier 000731", "le 731", "ou en est le 731 ?", "mon sinistre numéro 731 svp", "dossier n° 731", "sin 731",
     "ref 731", "le dossier no 000731 merci"],
)
def test_a_claim_named_by_its_number_alone_matches_that_number_of_any_year(text):
    reference = find_claim_reference(text)
    assert reference.number == "000731" and reference.year is None and reference.text == "731"
    assert reference.matches("SIN-2026-000731") and reference.matches("SIN-2025-000731")
    assert not reference.matches("SIN-2026-000415") and not reference.matches("SIN-2026-007310")


@pytest.mark.parametrize(
    "text",
    ["le 28", "le 28/11", "mon dossier", "j'ai 2 dossiers", "le 731 €", "dossier AUT-482913", "dossier 0",
     "appelez le 0612345678", "ça fait 731 euros", "731"],
)
def test_numbers_that_do_not_name_a_claim_are_not_taken_for_one(text):
    assert find_claim_reference(text) is None


def test_a_bare_number_names_a_claim_only_as_the_answer_to_which_claim():
    assert find_claim_reference("731", alone=True).number == "000731"
    assert find_claim_reference(" n° 000731 ", alone=True).number == "000731"
    assert find_claim_reference("731 et 415", alone=True) is None


@pytest.mark.parametrize(
    "text, plates",
    [
        ("ab123cd", ["AB-123-CD"]),
        ("AB-123-CD", ["AB-123-CD"]),
        ("ma voiture immatriculée ab 123 cd", ["AB-123-CD"]),
        ("ab-123cd et EF.456.GH", ["AB-123-CD", "EF-456-GH"]),
        ("j'ai fait de 123 km hier", []),
        ("au 123 de la rue", []),
        ("io123ou", []),
        ("xab123cdx", []),
    ],
)
def test_plates_are_found_in_any_spelling_and_made_canonical(text, plates):
    assert find_plates(text) == plates


def test_identifier_spans_give_the_canonical_value_and_its_place():
    text = "la ab123cd du AUT 482913, sinistre SIN2026-731"
    assert plate_spans(text) == [("AB-123-CD", 3, 10)]
    assert contract_number_spans(text) == [("AUT-482913", 14, 24)]
    assert claim_number_spans(text) == [("SIN-2026-000731", 35, len(text))]


def test_a_street_number_is_no_claim_number():
    assert find_claim_reference("j'habite au 123 rue Carnot") is None
