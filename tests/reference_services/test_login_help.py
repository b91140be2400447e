"""Login help actions: password-reset and identifier e-mails, with masked answers."""
import re

from tests.reference_services.helpers import KARIM, MARIE, SOPHIE, count, latest_message

RESET_LINK = re.compile(r"https://connexion\.oyat-assurances\.fr/\S+\?jeton=([\w-]{32,})")


def test_password_reset_sends_an_email_with_a_reset_link(services):
    response = services.post(f"/v1/customers/{MARIE}/password-reset")
    assert response.status_code == 202
    assert response.json() == {"sent_to": "m***@example.fr"}
    message = latest_message(services, "marie.dupont@example.fr")
    assert message["channel"] == "email"
    assert "mot de passe" in message["subject"].lower()
    assert message["body"].startswith("Bonjour Marie Dupont,")
    assert RESET_LINK.search(message["body"])


def test_each_password_reset_has_its_own_token(services):
    tokens = set()
    for _ in range(2):
        services.post(f"/v1/customers/{SOPHIE}/password-reset")
        tokens.add(RESET_LINK.search(latest_message(services, "s.martin@example.fr")["body"])
                   .group(1))
    assert len(tokens) == 2


def test_identifier_reminder_sends_the_customer_id(services):
    response = services.post(f"/v1/customers/{KARIM}/identifier-reminder")
    assert response.status_code == 202
    assert response.json() == {"sent_to": "k***@example.fr"}
    message = latest_message(services, "karim.benali@example.fr")
    assert KARIM in message["body"]
    assert "https://connexion.oyat-assurances.fr" in message["body"]


def test_unknown_customer_gets_no_email(services):
    before = count(services, "outbox")
    for action in ("password-reset", "identifier-reminder"):
        response = services.post(f"/v1/customers/99999999/{action}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "customer_not_found"
    assert count(services, "outbox") == before


def test_the_messages_sent_are_read_by_no_caller_of_the_services(services):
    """They carry one-time codes and reset links: the service token reads none of them."""
    services.post(f"/v1/customers/{MARIE}/identifier-reminder")
    for params in ({}, {"recipient": "marie.dupont@example.fr"}):
        answer = services.get("/v1/outbox", params=params)
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")
