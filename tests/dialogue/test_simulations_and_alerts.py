"""Simulations on the customer's own contracts and alerts, with the real stack (REST):
a lower deductible's figure per month and per year, then the change request filed with
it; an alert set, listed, cancelled on its button, and the due-date reminder the
reminder job sends when the clock is set near the due date."""

import json
import re
import subprocess
import sys
import uuid

import pytest

from devtools.espace_client import issue_session_token
from tests.conftest import REPO_ROOT
from tests.reference_services.helpers import count, query, sent_messages

MARIE = "10000001"
MONEY = r"\d+,\d{2}\s€"


class Customer:
    """One identified customer's REST conversation (the espace client's token)."""

    def __init__(self, stack, customer_id: str) -> None:
        self.stack, self.sender = stack, f"test-{uuid.uuid4()}"
        self.token = issue_session_token(customer_id, stack.jwt_secret)
        self.last: list = []

    def say(self, text: str) -> str:
        self.last = self.stack.say(self.sender, text, auth_token=self.token)
        return plain("\n".join(message.get("text", "") for message in self.last))

    def buttons(self) -> list:
        return [button for message in self.last for button in message.get("buttons") or []]


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture
def marie(rasa_stack):
    return Customer(rasa_stack, MARIE)


def requests_of(services) -> int:
    return count(services, "customer_requests", "customer_id = ?", (MARIE,))


def test_a_lower_deductible_is_priced_per_month_and_year_then_filed_with_its_figure(marie, services):
    before = requests_of(services)
    answer = marie.say("si je baisse ma franchise a 150 € je paierai combien ?")
    assert "AUT-482913" in answer and "franchise de 150,00 €" in answer
    assert re.search(rf"vous paieriez {MONEY} par mois, soit {MONEY} par an, au lieu de 48,90 € par mois", answer)
    assert re.search(rf"{MONEY} de plus par mois, {MONEY} de plus par an", answer)
    assert "prendrait effet le" in answer and "transmette" in answer
    assert requests_of(services) == before

    filed = marie.say("oui")
    reference = re.search(r"DEM-\d{4}-\d{6}", filed).group(0)
    [(kind, contract, details)] = query(
        services, "SELECT kind, contract_number, details FROM customer_requests WHERE reference = ?", (reference,))
    details = details if isinstance(details, dict) else json.loads(details)
    assert (kind, contract) == ("coverage_change", "AUT-482913")
    assert details["simulation"]["change"] == {"deductible_eur": 150}
    monthly = details["simulation"]["monthly_premium_cents"]
    assert f"{monthly // 100},{monthly % 100:02d} €" in plain(details["description"])


def test_a_higher_deductible_priced_then_refused_files_nothing(marie, services):
    before = requests_of(services)
    answer = marie.say("et avec une franchise a 500 ca ferait combien sur la voiture")
    assert "AUT-482913" in answer and re.search(rf"{MONEY} de moins par mois, {MONEY} de moins par an", answer)
    assert "aucune demande" in marie.say("non merci")
    assert requests_of(services) == before


def test_a_guarantee_already_held_is_said_so(marie):
    answer = marie.say("c'est quoi le surcout pour ajouter le bris de glace")
    assert "AUT-482913 comprend déjà la garantie « Bris de glace »" in answer
    assert "HAB-120034 comprend déjà la garantie « Bris de glace (vitres et miroirs) »" in answer


def test_an_anonymous_visitor_is_identified_before_any_figure(rasa_stack):
    answers = rasa_stack.say(f"test-{uuid.uuid4()}", "c'est quoi le surcout pour ajouter le bris de glace")
    text = plain(" ".join(message.get("text", "") for message in answers))
    assert "vérifier votre identité" in text and "€" not in text


def run_reminders(services, now: str) -> str:
    done = subprocess.run([sys.executable, "-m", "reference_services.cli", "alerts", "run", "--now", now],
                          cwd=REPO_ROOT, env=services.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_alert_is_set_listed_cancelled_and_its_reminder_sent_when_the_due_date_is_near(marie, services):
    answer = marie.say("prevenez-moi un mois avant l'echeance de mon assurance auto")
    assert "je vous préviendrai par e-mail, 30 jours avant l'échéance, sur le contrat AUT-482913" in answer
    assert "Prochain rappel prévu le 30 janvier 2027" in answer

    listed = marie.say("quelles sont mes alertes")
    assert "30 jours avant l'échéance, sur le contrat AUT-482913, par e-mail" in listed
    button = marie.buttons()[-1]
    assert button["title"].startswith("Annuler l'alerte")

    subject = "Rappel : échéance de votre contrat AUT-482913"
    mails = [m for m in sent_messages(services, "marie.dupont@example.fr") if m["subject"] == subject]
    assert "AUT-482913 (due 2027-03-01) sent by email" in run_reminders(services, "2027-02-02T09:00")
    run_reminders(services, "2027-02-03T09:00")
    sent = [m for m in sent_messages(services, "marie.dupont@example.fr") if m["subject"] == subject]
    assert len(sent) == len(mails) + 1 and "1er mars 2027" in sent[-1]["body"]

    cancelled = marie.say(button["payload"])
    assert "est annulée" in cancelled and "AUT-482913" in cancelled
    assert "aucune alerte" in marie.say("montrez moi les alertes que j'ai mises")
