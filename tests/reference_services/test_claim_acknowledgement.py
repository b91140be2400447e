"""Every new claim is acknowledged by e-mail with its number, once."""
import uuid

from tests.reference_services.helpers import count, latest_message
from tests.reference_services.test_claims import declaration, file

MARIE_EMAIL = "marie.dupont@example.fr"


def test_a_new_claim_is_acknowledged_by_email_with_its_number(services):
    claim = file(services, declaration()).json()
    message = latest_message(services, MARIE_EMAIL)
    assert message["subject"] == f"Votre déclaration de sinistre {claim['claim_number']}"
    assert claim["claim_number"] in message["body"] and "HAB-120034" in message["body"]


def test_a_retried_filing_sends_no_second_acknowledgement(services):
    key = uuid.uuid4().hex
    first = file(services, declaration(), key=key).json()
    sent = count(services, "outbox", "recipient = ?", (MARIE_EMAIL,))
    again = file(services, declaration(), key=key)
    assert again.status_code == 200 and again.json()["claim_number"] == first["claim_number"]
    assert count(services, "outbox", "recipient = ?", (MARIE_EMAIL,)) == sent


def test_a_refused_filing_sends_nothing(services):
    sent = count(services, "outbox", "recipient = ?", (MARIE_EMAIL,))
    assert file(services, declaration(contract_number="AUT-559120")).status_code == 404  # Karim's
    assert count(services, "outbox", "recipient = ?", (MARIE_EMAIL,)) == sent
