import time

import pytest

from core.parsing.contacts import masked_contact, read_contact


@pytest.mark.parametrize("text, contact", [
    ("06 12 34 56 78", "+33612345678"),
    ("0612345678", "+33612345678"),
    ("06.12.34.56.78", "+33612345678"),
    ("06-12-34-56-78", "+33612345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+33612345678", "+33612345678"),
    ("+33 (0)6 12 34 56 78", "+33612345678"),
    ("0033 6 12 34 56 78", "+33612345678"),
    ("rappelez moi au 06 12 34 56 78 svp", "+33612345678"),
    ("01 23 45 67 89", "+33123456789"),
    ("jean.dupont@exemple.fr", "jean.dupont@exemple.fr"),
    ("mon mail : Jean.Dupont@exemple.fr.", "Jean.Dupont@exemple.fr"),
    ("a_b-c+d@sous-domaine.exemple.com", "a_b-c+d@sous-domaine.exemple.com"),
    # Both: the e-mail first (a phone number cannot hide in an address).
    ("0612345678 ou jean@exemple.fr", "jean@exemple.fr"),
])
def test_a_french_phone_number_or_an_e_mail_is_read_as_written(text, contact):
    assert read_contact(text) == contact


@pytest.mark.parametrize("text", [
    "06 12 34 56",
    "06 12 34 56 78 9",
    "+44 20 7946 0958",  # a number, not a French one
    "jean@exemple",
    "jean@@exemple.fr",
    "jean.@exemple.fr",
    "@exemple.fr",
    "jean@exemple.f",
    "j" * 65 + "@exemple.fr",
    "oui",
    "",
    None,
])
def test_anything_else_is_no_contact(text):
    assert read_contact(text) is None


@pytest.mark.parametrize("contact, masked", [
    ("+33612345678", "06 •• •• •• 78"),
    ("+33123456789", "01 •• •• •• 89"),
    ("jean.dupont@exemple.fr", "j•••@exemple.fr"),
])
def test_the_contact_is_read_back_masked_with_no_asterisk_for_messaging_apps_to_read_as_bold(contact, masked):
    assert masked_contact(contact) == masked


def test_reading_takes_linear_time_on_adversarial_text():
    started = time.perf_counter()
    for text in ("a." * 240 + "@", "a@" + "b." * 240, "0" * 499, "1 " * 249):
        read_contact(text)
    assert time.perf_counter() - started < 1
