"""Claim declarations as customers really make them, through the REST channel with the
real stack: the story first, answers out of order, questions in the middle,
corrections in their own words, a cancel asked for by mistake.

These file new claims for Marie: the module runs after the phone tests, which ask for
« mon dégât des eaux » and expect her only one (SIN-2026-000731)."""

import datetime as dt
import re
import uuid

import pytest

from core import clock
from core.parsing.dates import latest_day_of_month
from devtools.espace_client import issue_session_token
from tests.reference_services.helpers import latest_code

MARIE = "10000001"
MARIE_PHONE = "+33612345678"
CLAIM_NUMBER = re.compile(r"SIN-\d{4}-\d{6}")


def texts(messages):
    return "\n".join(message.get("text", "") for message in messages)


class Customer:
    """One conversation of Marie's, identified by her espace-client session; counts her turns."""

    def __init__(self, stack, customer_id=MARIE, identified=True):
        self.stack, self.sender, self.turns = stack, f"test-{uuid.uuid4()}", 0
        self.metadata = {"auth_token": issue_session_token(customer_id, stack.jwt_secret)} if identified else {}

    def say(self, text):
        self.turns += 1
        return texts(self.stack.say(self.sender, text, **self.metadata))

    def slots(self):
        return self.stack.tracker(self.sender)["slots"]


def filed_claim(services, answer):
    number = CLAIM_NUMBER.search(answer).group(0)
    return services.get(f"/v1/customers/{MARIE}/claims/{number}").json()


@pytest.fixture
def marie(rasa_stack):
    return Customer(rasa_stack)


def test_an_accident_told_in_one_go_is_filed_in_three_turns_with_every_fact_of_the_story(marie, services):
    story = ("bjr, hier soir vers 19h j'etais arretee au feu rouge rue de la Republique a Niort, une voiture m'a "
             "percutee a l'arriere. le pare choc est enfonce et le coffre ferme plus")
    first = marie.say(story)
    assert "Je n'ai pas bien compris" not in first
    assert "type de sinistre" not in first and "Quand" not in first and "Où" not in first
    assert "témoins" in first
    summary = marie.say("pas de temoin")
    assert "accident de la route" in summary and "AUT-482913" in summary and "rue de la Republique" in summary
    filed = marie.say("oui")
    assert marie.turns <= 4

    claim = filed_claim(services, filed)
    assert claim["claim_type"] == "accident_auto" and claim["contract_number"] == "AUT-482913"
    assert claim["occurred_on"] == (clock.today() - dt.timedelta(days=1)).isoformat()
    assert claim["place"] == "au feu rouge rue de la Republique a Niort"
    assert claim["circumstances"] == story
    assert "pare choc est enfonce" in claim["damage"]
    assert "une voiture m'a percutee" in claim["third_party"]
    assert claim["witnesses"] == "Aucun témoin"


def test_a_cracked_windscreen_asks_only_what_the_story_left_out(marie, services):
    first = marie.say("mon pare brise est fissure depuis ce matin")
    assert "Je n'ai pas bien compris" not in first and "Où" in first
    assert "témoins" in marie.say("sur le parking du boulot a Niort")
    summary = marie.say("non aucun")
    assert "bris de glace" in summary and "Je l'enregistre" in summary
    filed = marie.say("oui c bon")
    assert marie.turns <= 4

    claim = filed_claim(services, filed)
    assert claim["claim_type"] == "bris_de_glace"
    assert claim["occurred_on"] == clock.today().isoformat()
    assert claim["place"] == "sur le parking du boulot a Niort"
    assert claim["circumstances"] == "mon pare brise est fissure depuis ce matin"


def test_a_visitor_who_tells_a_leak_identifies_then_is_asked_only_the_missing_facts(rasa_stack, services):
    visitor = Customer(rasa_stack, identified=False)
    assert "identifiant client" in visitor.say("g une fuite chez moi et le plafond de la voisine est abime")
    assert "date de naissance" in visitor.say("10000001")
    visitor.say("12/03/1985")
    resumed = visitor.say(latest_code(services, MARIE_PHONE))
    assert "identité est vérifiée" in resumed
    assert "type de sinistre" not in resumed and "Quand" in resumed
    assert "témoins" in visitor.say("avant hier dans la nuit")
    summary = visitor.say("personne")
    assert "dégât des eaux" in summary and "HAB-120034" in summary and "chez moi" in summary
    claim = filed_claim(services, visitor.say("oui"))
    assert claim["claim_type"] == "degat_des_eaux"
    assert claim["occurred_on"] == (clock.today() - dt.timedelta(days=2)).isoformat()
    assert claim["third_party"] == "le plafond de la voisine est abime"


def start_water_leak(customer):
    """A declaration started the old way: the request, then the type by button."""
    assert "type de sinistre" in customer.say("je veux declarer un sinistre")
    assert "Quand" in customer.say('/inform{"claim_type": "degat_des_eaux"}')


def test_a_question_in_the_middle_is_answered_and_the_question_asked_again(marie):
    start_water_leak(marie)
    assert "Où" in marie.say("hier")
    answer = marie.say("au fait, c'est quoi ma franchise ?")
    assert "Où" in answer
    assert marie.slots()["claim_place"] is None
    assert "ce qui s'est passé" in marie.say("dans la salle de bain")
    assert marie.slots()["claim_place"] == "dans la salle de bain"


def test_a_date_corrected_while_the_place_is_asked_corrects_the_date(marie):
    start_water_leak(marie)
    assert "Où" in marie.say("dimanche")
    again = marie.say("non attendez, c'était samedi")
    assert "Où" in again
    slots = marie.slots()
    saturday = clock.today() - dt.timedelta(days=(clock.today().weekday() - 5) % 7)
    assert slots["claim_date"] == saturday.isoformat() and slots["claim_place"] is None


def test_a_place_given_early_is_not_asked_again(marie):
    start_water_leak(marie)
    answer = marie.say("hier soir, dans la buanderie")
    assert "Où" not in answer and "ce qui s'est passé" in answer
    assert marie.slots()["claim_place"] == "dans la buanderie"


def test_a_bare_day_of_the_month_is_the_latest_past_one(marie):
    start_water_leak(marie)
    answer = marie.say("le 28")
    assert "futur" not in answer and "Où" in answer
    assert marie.slots()["claim_date"] == latest_day_of_month("28", clock.today()).isoformat()


def test_the_place_is_corrected_in_free_words_at_the_read_back(marie, services):
    start_water_leak(marie)
    assert "Où" in marie.say("hier")
    assert "ce qui s'est passé" in marie.say("a Niort, dans la cuisine")
    details = marie.say("le joint de la machine a laver a lache pendant l'essorage")
    assert "dégâts" in details
    summary = marie.say("le lino est decolle, pas de tiers, pas de temoin")
    assert "Je l'enregistre" in summary, summary
    corrected = marie.say("ce n'était pas à Niort mais à La Rochelle")
    assert "La Rochelle" in corrected and "Je l'enregistre" in corrected
    claim = filed_claim(services, marie.say("oui"))
    assert claim["place"] == "à La Rochelle"
    assert claim["damage"] == "le lino est decolle"
    assert claim["third_party"] == "Aucun tiers impliqué" and claim["witnesses"] == "Aucun témoin"


def test_typing_the_field_in_the_correction_menu_asks_it_again(marie, services):
    start_water_leak(marie)
    marie.say("hier")
    marie.say("dans la cuisine")
    marie.say("le flexible de l'evier a pete")
    assert "Je l'enregistre" in marie.say("placard sous l'evier gondole, personne d'autre, aucun temoin")
    assert "Que voulez-vous corriger" in marie.say("non")
    assert "Où" in marie.say("le lieu")
    assert "Je l'enregistre" in marie.say("dans la cuisine du rez de chaussee")
    claim = filed_claim(services, marie.say("oui"))
    assert claim["place"] == "dans la cuisine du rez de chaussee"


def test_the_contract_is_corrected_by_naming_the_product(marie, services):
    answer = marie.say("on m'a vole mon velo dans le garage samedi")
    assert "Quel contrat" in answer
    marie.say('/inform{"contract_number": "AUT-482913"}')
    summary = marie.say("le velo electrique et le cadenas, pas de temoin")
    assert "Je l'enregistre" in summary and "AUT-482913" in summary
    corrected = marie.say("c'est pour la maison, pas la voiture")
    assert "HAB-120034" in corrected and "Je l'enregistre" in corrected
    assert marie.slots()["claim_date"] is not None
    claim = filed_claim(services, marie.say("oui"))
    assert claim["contract_number"] == "HAB-120034" and claim["claim_type"] == "vol"


def test_a_cancel_asks_first_and_keeps_everything_when_the_customer_goes_on(marie):
    start_water_leak(marie)
    marie.say("hier")
    asked = marie.say("laisse tomber")
    assert "abandonner" in asked and "rien n'a été enregistré" not in asked
    again = marie.say("non")
    assert "Où" in again
    assert marie.slots()["claim_date"] is not None


def test_a_confirmed_cancel_drops_the_declaration(marie):
    start_water_leak(marie)
    marie.say("hier")
    assert "abandonner" in marie.say("annuler")
    assert "rien n'a été enregistré" in marie.say("oui")
    slots = marie.slots()
    assert slots["claim_type"] is None and slots["claim_date"] is None


def test_a_long_description_is_kept_as_the_circumstances(marie):
    start_water_leak(marie)
    marie.say("hier")
    marie.say("dans la cuisine")
    story = ("alors en fait je suis rentree du travail vers 18h, j'ai vu de l'eau sous la porte, j'ai tout arrete, "
             "coupe le compteur et appele un plombier qui a dit que le joint du lave vaisselle etait mort, "
             "bref je sais pas trop quoi faire de plus, on a tout epongé avec les serpillieres")
    answer = marie.say(story)
    assert "rien n'a été enregistré" not in answer
    assert marie.slots()["claim_circumstances"] == story
