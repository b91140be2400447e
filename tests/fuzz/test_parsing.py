"""core/parsing on any text: dates, identifiers and spoken numbers never raise, an
identifier found is always in its canonical form, a dictated number or identifier comes out
joined, and no input makes a pattern backtrack for long."""
import datetime as dt
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.parsing.dates import resolve_french_date
from core.parsing.identifiers import PRODUCT_CODES, find_claim_number, find_contract_number, find_customer_id
from core.parsing.spoken_numbers import normalise_spoken_numbers
from tests.fuzz.strategies import hostile_text

TODAY = dt.date(2026, 11, 24)
CANONICAL = {
    find_contract_number: re.compile(r"(?:AUT|HAB|SAN|PRV|PRO)-[0-9]{6}"),
    find_claim_number: re.compile(r"SIN-[0-9]{4}-[0-9]{6}"),
    find_customer_id: re.compile(r"[0-9]{8}"),
}
# Text without digits nor the letters of the identifiers' prefixes cannot hold an identifier.
WORDS = st.text(st.characters(exclude_categories=("Cs", "Nd", "No", "Nl")), max_size=30).map(
    lambda text: f"mot{text}fin")


@pytest.fixture(scope="module", autouse=True)
def dateparser_loaded():
    """dateparser loads its French data on first use: not part of any example's time."""
    resolve_french_date("hier", TODAY)


@settings(max_examples=100, deadline=1000)
@given(text=hostile_text)
@example(text="il y a 99999999999 jours")
@example(text="le 31/02/2026")
@example(text="samedi dernier vers 18h")
@example(text="9" * 400)
@example(text="١٢/٠٣/١٩٨٥")
def test_any_text_resolves_to_a_date_or_none_without_raising(text):
    resolved = resolve_french_date(text, TODAY)
    assert resolved is None or type(resolved) is dt.date


@pytest.mark.parametrize("find", CANONICAL, ids=lambda find: find.__name__)
@settings(max_examples=100, deadline=1000)
@given(text=hostile_text)
@example(text="mon identifiant est ١٢٣٤٥٦٧٨, contrat aut ١٢٣٤٥٦, dossier sin ٢٠٢٦ ١٢٣٤٥٦")
def test_an_identifier_found_in_any_text_is_canonical(find, text):
    found = find(text)
    assert found is None or CANONICAL[find].fullmatch(found), found


def _typed(canonical: str, case: str, separator: str) -> str:
    """A canonical identifier as customers type it: any case, dash kept, dropped or a space."""
    typed = canonical.replace("-", separator)
    return {"lower": typed.lower(), "upper": typed.upper(), "title": typed.title()}[case]


typed_case = st.sampled_from(["lower", "upper", "title"])
typed_separator = st.sampled_from(["-", "", " ", ".", " - "])
contract_numbers = st.builds(lambda code, number: f"{code}-{number:06d}", st.sampled_from(sorted(PRODUCT_CODES)),
                             st.integers(0, 999_999))
claim_numbers = st.builds(lambda year, number: f"SIN-{year}-{number:06d}", st.integers(2000, 2099),
                          st.integers(0, 999_999))


@settings(max_examples=100, deadline=1000)
@given(before=WORDS, after=WORDS, contract=contract_numbers, claim=claim_numbers, customer=st.integers(0, 99_999_999),
       case=typed_case, separator=typed_separator)
def test_identifiers_typed_loosely_among_words_are_found_in_canonical_form(before, after, contract, claim, customer,
                                                                           case, separator):
    customer_id = f"{customer:08d}"
    assert find_contract_number(f"{before} {_typed(contract, case, separator)} {after}") == contract
    assert find_claim_number(f"{before} {_typed(claim, case, separator)} {after}") == claim
    assert find_customer_id(f"{before} {customer_id[:4]} {customer_id[4:]} {after}") == customer_id


@settings(max_examples=100, deadline=1000)
@given(text=hostile_text)
@example(text="s i n deux mille vingt-six sept cent trente et un")
@example(text="zéro six douze trente-quatre cinquante-six soixante-dix-huit")
@example(text="a u t tiret tiret 4 8 2 9 1 3")
def test_any_transcription_is_normalised_without_raising(text):
    assert isinstance(normalise_spoken_numbers(text), str)


_UNITS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
          "treize", "quatorze", "quinze", "seize"]
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}


def spoken(number: int) -> str:
    """0 to 99 as a French speaker says it (« soixante et onze », « quatre-vingt-dix-sept »)."""
    if number <= 16:
        return _UNITS[number]
    if number < 20:
        return f"dix-{_UNITS[number - 10]}"
    if number < 70:
        tens, unit = divmod(number, 10)
        return _TENS[tens] + ("" if unit == 0 else " et un" if unit == 1 else f"-{_UNITS[unit]}")
    if number < 80:
        return "soixante et onze" if number == 71 else f"soixante-{spoken(number - 60)}"
    return "quatre-vingts" if number == 80 else f"quatre-vingt-{spoken(number - 80)}"


def dictated(digits: str) -> str:
    """Digits dictated in pairs, as callers give phone numbers and ids (« zéro six », « douze »)."""
    pairs = [digits[i:i + 2] for i in range(0, len(digits), 2)]
    return " ".join(f"zéro {_UNITS[int(pair)]}" if pair[0] == "0" else spoken(int(pair)) for pair in pairs)


def unambiguous(digits: str) -> bool:
    """Whether the pairs, dictated, say only these digits: « soixante » or « quatre-vingts »
    followed by « dix » to « dix-neuf » is also a single number (70 to 99), and so is
    « (zéro) quatre » followed by « vingt... » (80 to 89), on paper as on the phone."""
    pairs = [int(digits[i:i + 2]) for i in range(0, len(digits), 2)]
    return not any((first in (60, 80) and 10 <= second <= 19) or (first == 4 and 20 <= second <= 29)
                   for first, second in zip(pairs, pairs[1:], strict=False))


phone_numbers = st.builds(lambda first, rest: f"0{first}{rest:08d}", st.sampled_from("1234567"),
                          st.integers(0, 99_999_999)).filter(unambiguous)
customer_ids = st.integers(10_000_000, 99_999_999).map(str).filter(unambiguous)


@settings(max_examples=100, deadline=1000)
@given(phone=phone_numbers)
@example(phone="0612345678")
def test_a_dictated_phone_number_comes_out_as_its_ten_digits(phone):
    assert phone in normalise_spoken_numbers(f"mon numéro c'est le {dictated(phone)} merci")


@settings(max_examples=100, deadline=1000)
@given(customer_id=customer_ids)
@example(customer_id="10000001")
@example(customer_id="30050000")  # « trente zéro cinq zéro zéro zéro zéro »: no date in year 0
@example(customer_id="12030015")
def test_a_dictated_customer_id_comes_out_as_its_eight_digits(customer_id):
    assert customer_id in normalise_spoken_numbers(f"mon identifiant {dictated(customer_id)}")


# A prefix then a long run of digit groups that does not end like an identifier: a pattern
# that can split the run into groups in many ways tries them all before failing.
@settings(max_examples=30, deadline=1000)
@given(prefix=st.sampled_from(["sin", "s i n", "S.I.N", "aut", "a u t", "hab", "pro"]),
       digits=st.integers(16, 24), separator=st.sampled_from(["", " ", ".", "-", " tiret "]),
       end=st.sampled_from(["/", "/1", "x", ""]))
@example(prefix="sin", digits=24, separator="", end="/")
def test_long_digit_runs_after_an_identifier_prefix_are_normalised_quickly(prefix, digits, separator, end):
    text = f"{prefix} " + separator.join("1" * digits) + end
    assert isinstance(normalise_spoken_numbers(text), str)
