"""Changes filed as requests, with the real stack: nothing is sent without the customer's
yes to a read-back of what will be sent, and a request never captures a sentence meant
for something else."""

import re
import uuid

import pytest

from devtools.espace_client import issue_session_token
from tests.reference_services.helpers import count

MARIE, KARIM = "10000001", "10000002"
READ_BACK = "Je l'envoie ?"


class Customer:
    """One identified customer's REST conversation."""

    def __init__(self, stack, customer_id: str) -> None:
        self.stack, self.sender = stack, f"test-{uuid.uuid4()}"
        self.token = issue_session_token(customer_id, stack.jwt_secret)

    def say(self, text: str) -> str:
        return "\n".join(message.get("text", "") for message in self.stack.say(self.sender, text, auth_token=self.token))


def requests_of(services, customer_id: str) -> int:
    return count(services, "customer_requests", "customer_id = ?", (customer_id,))


@pytest.fixture
def marie(rasa_stack):
    return Customer(rasa_stack, MARIE)


def test_a_change_read_back_and_refused_files_nothing(marie, services):
    before = requests_of(services, MARIE)
    assert "Décrivez" in marie.say("jveux changer de rib svp")
    read_back = marie.say("les prelevements sur mon nouveau compte a la banque postale pour la AUT-482913")
    assert "changement de mode de paiement" in read_back and READ_BACK in read_back
    assert "« les prelevements sur mon nouveau compte a la banque postale pour la AUT-482913 »" in read_back
    refused = marie.say("non")
    assert "aucune demande n'a été transmise" in refused and not re.search(r"DEM-\d{4}", refused)
    assert requests_of(services, MARIE) == before


def test_a_change_read_back_and_confirmed_in_free_words_files_one_request(marie, services):
    before = requests_of(services, MARIE)
    marie.say("je voudrais baisser ma franchise")
    assert READ_BACK in marie.say("passer la franchise de la voiture a 150 euros")
    filed = marie.say("ouais c bon vas y")
    assert re.search(r"DEM-\d{4}-\d{6}", filed)
    assert requests_of(services, MARIE) == before + 1


def test_an_unclear_answer_to_the_read_back_files_nothing_until_a_yes(marie, services):
    before = requests_of(services, MARIE)
    marie.say("je veux changer de RIB")
    marie.say("nouveau compte pour le contrat habitation")
    unclear = marie.say("hmm attendez")
    assert ("Répondez « oui »" in unclear or READ_BACK in unclear) and not re.search(r"DEM-\d{4}", unclear)
    assert requests_of(services, MARIE) == before
    assert re.search(r"DEM-\d{4}-\d{6}", marie.say("ok c'est bon envoyez"))
    assert requests_of(services, MARIE) == before + 1


def test_another_request_at_the_details_question_is_served_not_filed(marie, services):
    before = requests_of(services, MARIE)
    marie.say("je veux changer de RIB")
    answer = marie.say("ah et au fait ou en est mon sinistre degat des eaux ?")
    assert "SIN-2026-000731" in answer and READ_BACK not in answer
    # The change waits for nothing: the next message is no description.
    assert "Décrivez" not in marie.say("merci")
    assert requests_of(services, MARIE) == before


@pytest.mark.parametrize("interruption, served", [
    ("c'est quoi votre numéro de téléphone ?", "0825 07 11 22"),
    ("ah et au fait prevenez moi un mois avant l'echeance de l'auto svp",
     "30 jours avant l'échéance, sur le contrat AUT-482913"),
], ids=["a question", "an alert"])
def test_a_question_or_an_alert_at_the_details_question_is_served_not_filed(marie, services, interruption, served):
    before = requests_of(services, MARIE)
    marie.say("je veux changer de RIB")
    answer = marie.say(interruption)
    assert served in answer and READ_BACK not in answer
    assert requests_of(services, MARIE) == before


def test_an_address_given_without_asking_for_a_change_opens_nothing(rasa_stack, services):
    karim = Customer(rasa_stack, KARIM)
    before = requests_of(services, KARIM)
    offered = karim.say("mon adresse est 3 rue des lilas 69003 lyon")
    assert "Voulez-vous modifier vos coordonnées" in offered and "Décrivez" not in offered
    karim.say("non")
    assert requests_of(services, KARIM) == before


def test_a_move_is_described_read_back_and_filed_on_yes(rasa_stack, services):
    karim = Customer(rasa_stack, KARIM)
    before = requests_of(services, KARIM)
    assert "Décrivez" in karim.say("j'ai déménagé")
    assert "changement de coordonnées" in karim.say("nouvelle adresse 3 rue des Lilas 69003 Lyon depuis le 1er")
    assert re.search(r"DEM-\d{4}-\d{6}", karim.say("oui"))
    assert requests_of(services, KARIM) == before + 1
