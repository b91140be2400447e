"""Faults with the processes really stopped and started again, and a really slow server:
what the customer gave is never lost nor filed twice, and they are always answered."""
import re
import uuid

import pytest

from connectors.guard import conversation_id
from devtools.espace_client import issue_session_token
from harness.servers import wait_for
from tests.actions.helpers import JWT_SECRET
from tests.faults.conftest import SERVICES_TIMEOUT_SECONDS

MARIE = "10000001"
MARIE_EMAIL = "marie.dupont@example.fr"


@pytest.fixture
def sender():
    return f"fault-{uuid.uuid4()}"


@pytest.fixture(autouse=True)
def everything_running_again(fault_stack):
    """Whatever a test stopped or slowed down is back for the next one."""
    yield
    for name in ("policy", "claims", "proxy", "actions", "outbox", "rasa"):
        fault_stack.ensure_running(name)
    fault_stack.set_claims_delay(0)


def texts(messages):
    return "\n".join(message.get("text", "") for message in messages)


class Customer:
    """Marie in her espace client, talking to the fault stack."""

    def __init__(self, stack, sender):
        self.stack, self.sender = stack, sender
        self.token = issue_session_token(MARIE, JWT_SECRET)

    def say(self, text):
        return texts(self.stack.say(self.sender, text, auth_token=self.token))

    def declare_water_leak_up_to_the_summary(self, place):
        assert "type de sinistre" in self.say("je veux déclarer un sinistre")
        assert "Quand" in self.say('/inform{"claim_type": "degat_des_eaux"}')
        assert "Où" in self.say("hier vers 18h")
        assert "ce qui s'est passé" in self.say(place)
        assert "dégâts" in self.say("le tuyau sous l'évier a lâché pendant la nuit")
        assert "autre personne" in self.say("le parquet de la cuisine est gonflé")
        assert "témoins" in self.say("Aucun tiers impliqué")
        summary = self.say("Aucun témoin")
        assert place in summary and "Je l'enregistre" in summary


def claims_at(stack, place):
    return stack.services_rows("SELECT claim_number FROM claims WHERE place = ?", (place,))


def test_a_claim_confirmed_while_the_claims_service_is_down_is_kept_then_filed_once_it_is_back(fault_stack, sender):
    marie, place = Customer(fault_stack, sender), f"cuisine, appartement {uuid.uuid4().hex[:8]}"
    marie.declare_water_leak_up_to_the_summary(place)
    fault_stack.stop("claims")

    answer = marie.say("oui")

    assert "ne répond pas" in answer and "conservée" in answer and "par e-mail" in answer
    assert claims_at(fault_stack, place) == []
    assert fault_stack.outbox_rows(
        "SELECT status FROM pending_claims WHERE sender_id = ?", (conversation_id("rest", sender),)) == [("pending",)]

    fault_stack.start("claims")
    [(number,)] = wait_for(lambda: claims_at(fault_stack, place), 60, "the worker files the queued claim")
    acknowledgement = fault_stack.services_rows(
        "SELECT body FROM outbox WHERE recipient = ? AND subject LIKE ?", (MARIE_EMAIL, f"%{number}"))
    assert len(acknowledgement) == 1 and number in acknowledgement[0][0]

    # Asked again, the assistant gives the number of the claim filed meanwhile.
    again = marie.say("oui")
    assert number in again
    assert claims_at(fault_stack, place) == [(number,)]


def test_a_claim_confirmed_while_the_claims_service_is_slow_is_filed_once_not_twice(fault_stack, sender):
    marie, place = Customer(fault_stack, sender), f"salle de bains {uuid.uuid4().hex[:8]}"
    marie.declare_water_leak_up_to_the_summary(place)
    # Slower than the actions wait: the filing reaches the service after they gave up.
    fault_stack.set_claims_delay(SERVICES_TIMEOUT_SECONDS + 3)

    answer = marie.say("oui")

    assert "ne répond pas" in answer and "conservée" in answer
    [(number,)] = wait_for(lambda: claims_at(fault_stack, place), 30, "the slow filing reaches the service")
    fault_stack.set_claims_delay(0)
    wait_for(lambda: fault_stack.outbox_rows(
        "SELECT 1 FROM pending_claims WHERE sender_id = ? AND status = 'filed' AND claim_number = ?",
        (conversation_id("rest", sender), number)), 30, "the worker finds the claim already filed under its key")
    assert claims_at(fault_stack, place) == [(number,)]
    assert len(fault_stack.services_rows(
        "SELECT 1 FROM outbox WHERE subject LIKE ?", (f"%{number}",))) == 1  # acknowledged once


def test_when_the_action_server_is_down_the_customer_gets_an_apology_and_can_ask_again(fault_stack, sender):
    marie = Customer(fault_stack, sender)
    assert "Bonjour" in marie.say("bonjour")
    fault_stack.stop("actions")

    answer = marie.say("où en est mon dossier SIN-2026-000731")

    assert "problème technique" in answer and "0825 07 11 22" in answer
    fault_stack.start("actions")
    assert "expertise" in marie.say("où en est mon dossier SIN-2026-000731")


def test_a_new_visitor_is_answered_even_while_the_action_server_is_down(fault_stack, sender):
    fault_stack.stop("actions")
    assert "Bonjour" in texts(fault_stack.say(sender, "bonjour"))
    assert "problème technique" in texts(fault_stack.say(sender, "je veux déclarer un sinistre"))


def test_a_declaration_interrupted_by_a_rasa_restart_resumes_where_it_was(fault_stack, sender):
    marie, place = Customer(fault_stack, sender), "au 12 rue des Lilas à Niort"
    assert "type de sinistre" in marie.say("je veux déclarer un sinistre")
    assert "Quand" in marie.say('/inform{"claim_type": "degat_des_eaux"}')
    assert "Où" in marie.say("hier vers 18h")
    assert "ce qui s'est passé" in marie.say(place)

    fault_stack.stop("rasa")
    fault_stack.start("rasa")

    assert "dégâts" in marie.say("le tuyau sous l'évier a lâché pendant la nuit")
    assert "autre personne" in marie.say("le parquet de la cuisine est gonflé")
    assert "témoins" in marie.say("Aucun tiers impliqué")
    summary = marie.say("Aucun témoin")
    assert place in summary and "HAB-120034" in summary
    number = re.search(r"SIN-\d{4}-\d{6}", marie.say("oui")).group(0)
    assert claims_at(fault_stack, place) == [(number,)]
