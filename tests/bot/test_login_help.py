"""Login help actions: password-reset and identifier e-mails, with masked answers."""
import re

import pytest

from tests.bot.helpers import KARIM, MARIE, SOPHIE, count, latest_message

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


def test_outbox_lists_the_latest_messages_in_the_order_sent(services):
    for _ in range(3):
        services.post(f"/v1/customers/{MARIE}/identifier-reminder")
    everything = services.get("/v1/outbox").json()["messages"]
    latest = services.get("/v1/outbox", params={"limit": 2}).json()["messages"]
    assert [m["id"] for m in everything] == sorted(m["id"] for m in everything)
    assert latest == everything[-2:]


@pytest.mark.parametrize("limit", ["0", "1001", "ten"])
def test_outbox_limit_is_checked(services, limit):
    response = services.get("/v1/outbox", params={"limit": limit})
    assert response.status_code == 422
    assert "limit" in response.json()["error"]["fields"]
