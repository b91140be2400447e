"""Pure helpers: masking, validity periods, coverage rules, signed links."""
from datetime import date

import pytest

from core.masking import mask_email, mask_phone
from reference_services.documents.attestation import validity_period
from reference_services.documents.links import LinkCheck, check_link, sign, signed_url
from reference_services.policy.coverage import CLAIM_TYPES, GUARANTEE_COVERS, covered_claim_types


@pytest.mark.parametrize("email, masked", [
    ("marie.dupont@example.fr", "m***@example.fr"),
    ("s.martin@example.fr", "s***@example.fr"),
    ("nodomain", "***"),
])
def test_email_is_masked(email, masked):
    assert mask_email(email) == masked


@pytest.mark.parametrize("phone, masked", [
    ("+33612345678", "06 ** ** ** 78"),
    ("+33723456789", "07 ** ** ** 89"),
    ("+442079460958", "+44 *** 58"),
])
def test_phone_is_masked(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("start, due, period", [
    (date(2021, 3, 1), date(2027, 3, 1), (date(2026, 3, 1), date(2027, 2, 28))),
    (date(2026, 6, 10), date(2027, 3, 1), (date(2026, 6, 10), date(2027, 2, 28))),
    (date(2020, 2, 29), date(2028, 2, 29), (date(2027, 2, 28), date(2028, 2, 28))),
    (date(2026, 5, 2), None, (date(2026, 5, 2), date(2027, 5, 1))),
])
def test_attestation_covers_the_current_insurance_year(start, due, period):
    assert validity_period(start, due) == period


def test_every_guarantee_covers_only_known_claim_types():
    for claim_types in GUARANTEE_COVERS.values():
        assert claim_types <= set(CLAIM_TYPES)


@pytest.mark.parametrize("guarantees, covered", [
    (["responsabilite_civile_auto"], ["accident_auto", "responsabilite_civile"]),
    (["vol_incendie", "bris_de_glace"], ["bris_de_glace", "vol", "incendie"]),
    (["capital_deces", "unknown_guarantee"], []),
])
def test_guarantees_decide_the_covered_claim_types(guarantees, covered):
    assert covered_claim_types(guarantees) == covered


@pytest.mark.parametrize("expires, signature, now, verdict", [
    (2000, sign("doc", 2000, "k"), 1000, LinkCheck.VALID),
    (2000, sign("doc", 2000, "k"), 2000, LinkCheck.VALID),
    (2000, sign("doc", 2000, "k"), 2001, LinkCheck.EXPIRED),
    (2000, sign("doc", 2000, "other"), 1000, LinkCheck.INVALID),
    (2000, sign("other", 2000, "k"), 1000, LinkCheck.INVALID),
    (3000, sign("doc", 2000, "k"), 1000, LinkCheck.INVALID),
    ("-1", sign("doc", -1, "k"), 1000, LinkCheck.INVALID),
    (2000, "", 1000, LinkCheck.INVALID),
    (None, sign("doc", 2000, "k"), 1000, LinkCheck.INVALID),
    # Matched whole, in ASCII digits: a new line or another script's digits are no expiry.
    ("2000\n", sign("doc", 2000, "k"), 1000, LinkCheck.INVALID),
    ("²", sign("doc", 2, "k"), 1, LinkCheck.INVALID),
    ("２０００", sign("doc", 2000, "k"), 1000, LinkCheck.INVALID),
    # Longer than any time we sign: refused before it is read as a number.
    ("0" * 13 + "2000", sign("doc", 2000, "k"), 1000, LinkCheck.INVALID),
    ("9" * 5000, "0" * 64, 1000, LinkCheck.INVALID),
])
def test_document_links_are_checked(expires, signature, now, verdict):
    expires = None if expires is None else str(expires)
    assert check_link("doc", expires, signature, "k", now) is verdict


def test_signed_url_points_to_the_download_route():
    url = signed_url("http://localhost:5101/", "abc", 2000, "k")
    signature = sign("abc", 2000, "k")
    assert url == f"http://localhost:5101/v1/documents/abc.pdf?expires=2000&signature={signature}"
