"""core.masking on any text: it never raises, masking twice changes nothing, no e-mail,
phone number or IBAN hidden among noise survives, and long adversarial text is masked in
time linear in its length (the Rasa server masks every turn it stores)."""
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.masking import MARKERS, PERSONAL_KEYS, SECRET_KEYS, mask_for_logs, mask_personal_data, mask_value
from tests.fuzz.strategies import foreign_phones, hostile_text, json_values, phones, planted_personal_data

MASKS = [mask_personal_data, mask_for_logs]


@pytest.mark.parametrize("mask", MASKS)
@settings(max_examples=150, deadline=1000)
@given(text=hostile_text)
@example(text="née le 12/03/1985 à Niort, code 123 456, 06 12 34 56 78, marie.dupont@example.fr")
def test_masking_any_text_never_raises_and_twice_changes_nothing(mask, text):
    once = mask(text)
    assert isinstance(once, str)
    assert mask(once) == once


@settings(max_examples=100, deadline=1000)
@given(value=json_values)
def test_masking_a_json_value_keeps_its_shape_and_hides_every_secret_key(value):
    masked = mask_value(value)
    assert mask_value(masked) == masked
    pending = [(value, masked)]
    while pending:
        original, copy = pending.pop()
        if isinstance(original, dict):
            assert isinstance(copy, dict) and copy.keys() == original.keys()
            for key, item in original.items():
                if str(key).lower() in SECRET_KEYS and item:
                    assert copy[key] == MARKERS["token"]
                elif str(key).lower() in PERSONAL_KEYS and item:
                    assert copy[key] == PERSONAL_KEYS[str(key).lower()]
                else:
                    pending.append((item, copy[key]))
        elif isinstance(original, list):
            assert isinstance(copy, list) and len(copy) == len(original)
            pending.extend(zip(original, copy, strict=True))
        elif isinstance(original, str):
            assert copy == mask_personal_data(original)
        else:
            assert copy == original


@pytest.mark.parametrize("mask", MASKS)
@settings(max_examples=150, deadline=1000)
@given(case=planted_personal_data())
@example(case=("mon IBAN FR76 3000 6000 0112 3456 7890 189, tél. +33 6 12 34 56 78",
               [("IBAN", "FR76 3000 6000 0112 3456 7890 189"), ("phone", "+33 6 12 34 56 78")]))
def test_no_planted_e_mail_phone_number_or_iban_survives_masking(mask, case):
    text, planted = case
    masked = mask(text)
    for kind, value in planted:
        assert value not in masked, f"{kind} {value!r} left in {masked!r}"


# The phone matcher alone reads « 06 12 34 56 78 2 fois » as one eleven-digit number, which is
# no phone number, and gives up on « x () 06 12 34 56 78 »: the masking finds them anyway.
@pytest.mark.parametrize("mask", MASKS)
@settings(max_examples=50, deadline=1000)
@given(phone=phones | foreign_phones, after=st.sampled_from([" 2 fois", "  07 98 76 54 32", " 12", " 1er"]),
       before=st.sampled_from(["appelez le ", "x () ", "x( ", "x[ ", "mon numéro "]))
@example(phone="06 12 34 56 78", after=" 2 fois", before="appelez le ")
@example(phone="01 00 00 00 00", after="  01 00 00 00 00", before="")
@example(phone="06 12 34 56 78", after="", before="x () ")
def test_a_phone_number_next_to_other_numbers_or_brackets_is_masked(mask, phone, before, after):
    assert phone not in mask(before + phone + after)


# Runs of the characters the patterns and the phone matcher work on, 10 to 40 thousand
# characters long (what a stored event or a log line may hold). mask_for_logs runs every
# pattern of mask_personal_data and its own. A pattern that may start anywhere in a run and
# scan it to its end takes seconds here (quadratic); linear ones, a fraction of a second.
ADVERSARIAL_PIECES = ["1 ", "-1", "06 ", "1/", "12 ", "+33 ", "a.", "a@", "eyJ", "0", "FR76 ", "12 rue ",
                      "code ", "née le 1", "Bearer ", "token=", "1-", "a-", "1.", "@a."]


@settings(max_examples=6, deadline=3000)
@given(pieces=st.lists(st.sampled_from(ADVERSARIAL_PIECES), min_size=1, max_size=3),
       length=st.integers(10_000, 40_000))
@example(pieces=["-1"], length=40_000)
@example(pieces=["a."], length=40_000)
@example(pieces=["eyJ"], length=40_000)
def test_long_adversarial_text_is_masked_in_bounded_time(pieces, length):
    run = "".join(pieces)
    text = (run * (length // len(run) + 1))[:length]
    assert isinstance(mask_for_logs(text), str)
