import pytest

from core.parsing import dates, identifiers, spoken_numbers
from core.parsing.identifiers import find_claim_number, find_contract_number, find_customer_id
from core.parsing.spoken_numbers import normalise_spoken_numbers
from tests.adversarial_text import DICTATED_NUMBERS_AND_DATES, patterns_of, slow_texts


@pytest.mark.parametrize(
    "heard, normalised",
    [
        # phone numbers, said in pairs or digit by digit
        ("zéro six douze trente-quatre cinquante-six soixante-dix-huit", "0612345678"),
        ("zéro six un deux trois quatre cinq six sept huit", "0612345678"),
        ("mon numéro c'est le zéro sept vingt-trois quarante-cinq soixante-sept quatre-vingt-neuf",
         "mon numéro c'est le 0723456789"),
        # claim numbers: spelled prefix, the year, the number without its leading zeros
        ("s i n deux mille vingt-six sept cent trente et un", "SIN-2026-000731"),
        ("sin deux mille vingt-six zéro zéro zéro sept cent trente et un", "SIN-2026-000731"),
        ("S.I.N. tiret deux mille vingt-six tiret sept cent trente et un", "SIN-2026-000731"),
        ("où en est le dossier s i n deux mille vingt-six quatre cent quinze",
         "où en est le dossier SIN-2026-000415"),
        # contract numbers
        ("a u t quatre cent quatre-vingt-deux mille neuf cent treize", "AUT-482913"),
        ("h a b cent vingt zéro trente-quatre", "HAB-120034"),
        ("mon contrat pro sept cent mille deux cent quinze", "mon contrat PRO-700215"),
        ("AUT 482913", "AUT-482913"),
        # plates, customer ids, codes
        ("a b cent vingt-trois c d", "AB-123-CD"),
        ("mon identifiant est un zéro zéro zéro zéro zéro zéro deux", "mon identifiant est 10000002"),
        ("dix millions un", "10000001"),
        ("le code est un deux trois quatre cinq six", "le code est 123456"),
        ("mon identifiant trente zéro cinq zéro zéro zéro zéro", "mon identifiant 30050000"),
        ("mon identifiant douze zéro trois zéro zéro quinze", "mon identifiant 12030015"),
        # dates and quantities stay readable
        ("je suis née le douze mars mille neuf cent quatre-vingt-cinq", "je suis née le 12 mars 1985"),
        ("douze zéro trois dix-neuf cent quatre-vingt-cinq", "12/03/1985"),
        ("c'était hier vers dix-huit heures", "c'était hier vers 18 heures"),
        ("quatre cent douze euros", "412 euros"),
        # words that are not numbers are left alone
        ("il y a un dégât des eaux", "il y a un dégât des eaux"),
        ("un tuyau a lâché, deux mètres carrés de parquet", "un tuyau a lâché, deux mètres carrés de parquet"),
        ("j'ai deux voitures et une moto", "j'ai deux voitures et une moto"),
        ("SIN-2026-000731", "SIN-2026-000731"),
        ("", ""),
    ],
)
def test_spoken_numbers_become_the_digits_and_identifiers_meant(heard, normalised):
    assert normalise_spoken_numbers(heard) == normalised


def test_normalised_identifiers_are_found_by_the_identifier_parsers():
    assert find_claim_number(normalise_spoken_numbers("s i n deux mille vingt-six sept cent trente et un")) == (
        "SIN-2026-000731"
    )
    assert find_contract_number(normalise_spoken_numbers("a u t quatre cent quatre-vingt-deux mille neuf cent treize")) == (
        "AUT-482913"
    )
    assert find_customer_id(normalise_spoken_numbers("un zéro zéro zéro zéro zéro zéro un")) == "10000001"


@pytest.mark.parametrize(
    "heard",
    [
        "s i n deux mille vingt-six un million",  # a number too long for a claim
        "a u t douze",  # too short for a contract
        "pro deux fois",
    ],
)
def test_what_cannot_be_an_identifier_is_not_forced_into_one(heard):
    normalised = normalise_spoken_numbers(heard)
    assert find_claim_number(normalised) is None and find_contract_number(normalised) is None


@pytest.mark.parametrize(
    "name, pattern", patterns_of(spoken_numbers, identifiers, dates), ids=lambda value: str(value)
)
def test_every_parsing_pattern_takes_linear_time_on_adversarial_text(name, pattern):
    assert slow_texts(pattern, DICTATED_NUMBERS_AND_DATES) == {}, name


def test_a_long_dictated_number_that_is_no_identifier_is_left_as_heard():
    heard = "sin " + "1" * 40 + "/2026"
    assert normalise_spoken_numbers(heard) == heard


def test_a_claim_number_said_digit_by_digit_after_dossier_is_one_number():
    assert normalise_spoken_numbers("le dossier sept trois un") == "le dossier 731"
    assert normalise_spoken_numbers("sinistre zéro zéro zéro sept trois un") == "sinistre 000731"
