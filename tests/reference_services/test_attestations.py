"""Attestations: a real PDF with the right facts, behind a signed expiring link."""
import io
import re
import time
from urllib.parse import parse_qs, urlsplit

import pypdf
import pytest

from reference_services.documents.links import sign
from tests.conftest import TEST_DOCUMENT_LINK_SECRET
from tests.reference_services.helpers import KARIM, MARIE, SOPHIE, count, latest_message, today_paris


def attestation_url(customer_id, contract_number):
    return f"/v1/customers/{customer_id}/contracts/{contract_number}/attestations"


def issue(services, customer_id, contract_number, **body):
    response = services.post(attestation_url(customer_id, contract_number), json=body or None)
    assert response.status_code == 201, response.text
    return response.json()


def download(services, attestation):
    """The PDF behind the signed link, fetched like a customer would (no token)."""
    url = attestation["url"]
    assert url.startswith(services.base_url + "/v1/documents/")
    response = services.http.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    return response.content


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_attestation_pdf_names_the_contract_and_vehicle(services):
    attestation = issue(services, MARIE, "AUT-482913")
    text = pdf_text(download(services, attestation))
    for expected in (
        "Oyat Assurance", "CS 38735 – 79027 Niort Cedex", "Attestation d'assurance automobile",
        "Marie Dupont", "14 rue Ricard", "79000 Niort", "AUT-482913",
        "Peugeot 208, immatriculé AB-123-CD",
        "Période de validité : du 1er mars 2026 au 28 février 2027 inclus",
        f"Référence de vérification : {attestation['reference']}",
    ):
        assert expected in text
    assert (attestation["valid_from"], attestation["valid_to"]) == ("2026-03-01", "2027-02-28")
    assert attestation["kind"] == "standard"


def test_attestation_reference_and_link_have_the_documented_form(services):
    attestation = issue(services, KARIM, "AUT-559120")
    assert re.fullmatch(rf"ATT-{today_paris().year}-[2-9A-HJ-NP-Z]{{8}}",
                        attestation["reference"])
    query = parse_qs(urlsplit(attestation["url"]).query)
    assert set(query) == {"expires", "signature"}
    assert int(query["expires"][0]) > time.time() + 3600


def test_home_attestation_names_the_insured_address(services):
    text = pdf_text(download(services, issue(services, MARIE, "HAB-120034")))
    assert "Attestation d'assurance habitation" in text
    assert "Adresse du logement assuré : 14 rue Ricard, 79000 Niort." in text
    assert "du 15 janvier 2026 au 14 janvier 2027" in text


def test_school_attestation_covers_the_childrens_liability(services):
    attestation = issue(services, MARIE, "HAB-120034", kind="scolaire")
    text = " ".join(pdf_text(download(services, attestation)).split())
    assert attestation["kind"] == "scolaire"
    assert "Attestation d'assurance scolaire et extrascolaire" in text
    assert "les enfants de l'assuré(e)" in text
    assert "« Responsabilité civile vie privée »" in text
    assert "activités scolaires et extrascolaires" in text


def test_pro_attestation_states_the_ten_year_liability(services):
    text = " ".join(pdf_text(download(services, issue(services, SOPHIE, "PRO-700215"))).split())
    assert "Attestation d'assurance de responsabilité civile décennale" in text
    assert "articles L. 241-1 et L. 241-2 du Code des assurances" in text
    assert "Plomberie, chauffage et installations sanitaires" in text
    assert "Sophie Martin" in text


def test_terminated_contract_gets_no_attestation(services):
    before = count(services, "generated_documents")
    response = services.post(attestation_url(SOPHIE, "HAB-099812"))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "contract_terminated"
    assert error["end_date"] == "2025-06-30"
    assert "30/06/2025" in error["message"]
    assert count(services, "generated_documents") == before


@pytest.mark.parametrize("customer_id, contract_number, body, status, code", [
    (MARIE, "AUT-482913", {"kind": "scolaire"}, 422, "validation_error"),
    (MARIE, "HAB-120034", {"kind": "decennale"}, 422, "validation_error"),
    (MARIE, "HAB-120034", {"send_by_email": "oui"}, 422, "validation_error"),
    (MARIE, "AUT-559120", {}, 404, "contract_not_found"),
    ("99999999", "AUT-482913", {}, 404, "customer_not_found"),
])
def test_refused_attestations_write_nothing(services, customer_id, contract_number, body,
                                            status, code):
    before = count(services, "generated_documents"), count(services, "outbox")
    response = services.post(attestation_url(customer_id, contract_number), json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert (count(services, "generated_documents"), count(services, "outbox")) == before


def test_attestation_can_be_sent_by_email(services):
    attestation = issue(services, KARIM, "AUT-559120", send_by_email=True)
    assert attestation["sent_to"] == "k***@example.fr"
    message = latest_message(services, "karim.benali@example.fr")
    assert message["channel"] == "email"
    assert "AUT-559120" in message["subject"]
    assert attestation["url"] in message["body"]


def signed_link(services, document_id, expires, secret=TEST_DOCUMENT_LINK_SECRET):
    signature = sign(document_id, expires, secret)
    return f"{services.base_url}/v1/documents/{document_id}.pdf", {
        "expires": expires, "signature": signature}


def test_expired_document_link_is_refused(services):
    document_id = issue(services, MARIE, "AUT-482913")["document_id"]
    url, params = signed_link(services, document_id, int(time.time()) - 1)
    response = services.http.get(url, params=params, timeout=10)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "link_expired"


def _tampered_links(services, attestation, other_document_id):
    url = attestation["url"].split("?")[0]
    query = {k: v[0] for k, v in parse_qs(urlsplit(attestation["url"]).query).items()}
    later = int(query["expires"]) + 86400
    return {
        "wrong signature": (url, {**query, "signature": "0" * 64}),
        "no signature": (url, {"expires": query["expires"]}),
        "no expiry": (url, {"signature": query["signature"]}),
        "extended expiry": (url, {**query, "expires": later}),
        # More digits than Python reads as an int (4300): was a 500.
        "expiry of 5000 digits": (url, {**query, "expires": "9" * 5000}),
        "other secret": signed_link(services, attestation["document_id"], later, "guess"),
        "other document": (
            f"{services.base_url}/v1/documents/{other_document_id}.pdf", query),
    }


def test_tampered_document_links_are_refused(services):
    attestation = issue(services, MARIE, "AUT-482913")
    other = issue(services, KARIM, "AUT-559120")["document_id"]
    for name, (url, params) in _tampered_links(services, attestation, other).items():
        response = services.http.get(url, params=params, timeout=10)
        assert response.status_code == 403, name
        assert response.json()["error"]["code"] == "invalid_link", name
        assert b"%PDF" not in response.content


def test_validly_signed_link_to_a_missing_document_is_not_found(services):
    url, params = signed_link(services, "0" * 32, int(time.time()) + 60)
    response = services.http.get(url, params=params, timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "document_not_found"
