"""Whole conversations as hurried customers hold them, on the REST channel and the
telephone line, with the real stack: each one mixes what customers do at once (a
story instead of a request, an answer out of order, a correction in passing, a
number written their own way, two requests in one message), and checks what the
insurer's systems finally hold, not only what the assistant said."""

import datetime as dt
import re
import uuid

from core import clock
from devtools.espace_client import issue_session_token
from tests.dialogue.test_ivr_calls import PhoneCall, heard

MARIE, KARIM, SOPHIE = "10000001", "10000002", "10000003"
MARIE_PHONE = "+33612345678"
CLAIM_NUMBER = re.compile(r"SIN-\d{4}-\d{6}")


class Customer:
    """One conversation in the espace client of `customer_id`."""

    def __init__(self, stack, customer_id):
        self.stack, self.sender, self.turns = stack, f"test-{uuid.uuid4()}", 0
        self.metadata = {"auth_token": issue_session_token(customer_id, stack.jwt_secret)}

    def say(self, text):
        self.turns += 1
        return "\n".join(message.get("text", "") for message in self.stack.say(self.sender, text, **self.metadata))


def claim_filed(services, customer_id, answer):
    number = CLAIM_NUMBER.search(answer)
    assert number, answer
    return services.get(f"/v1/customers/{customer_id}/claims/{number.group(0)}").json()


def newest_claim(services, customer_id):
    claims = services.get(f"/v1/customers/{customer_id}/claims").json()["claims"]
    return max(claims, key=lambda claim: claim["claim_number"])


def test_karim_tells_his_broken_windscreen_corrects_the_day_and_gets_a_number_in_four_turns(rasa_stack, services):
    karim = Customer(rasa_stack, KARIM)
    first = karim.say("slt, un gravier a pete mon pare brise avant hier sur l'autoroute A6 pres de Macon, "
                      "en doublant un camion de chantier. il y a une fissure de 20cm devant le volant")
    assert "pas bien compris" not in first and "type de sinistre" not in first
    karim.say("en fait c'etait hier pas avant hier. personne d'autre et pas de temoins")
    summary = karim.say("c'est bon")  # anything still missing would be asked here
    if "Je l'enregistre" not in summary:
        summary = karim.say("rien d'autre")
    answer = karim.say("oui vas y")
    assert karim.turns <= 4, "a story with the type, date, place and circumstances takes at most four turns"
    claim = claim_filed(services, KARIM, answer)
    assert claim["claim_type"] == "bris_de_glace" and claim["contract_number"] == "AUT-559120"
    assert claim["occurred_on"] == (clock.today() - dt.timedelta(days=1)).isoformat()
    assert "Macon" in claim["place"]


def test_marie_asks_her_deductible_in_the_middle_then_corrects_the_place_at_the_read_back(rasa_stack, services):
    marie = Customer(rasa_stack, MARIE)
    marie.say("je dois declarer un degat des eaux svp")
    assert "franchise" in marie.say("attendez c'est combien ma franchise deja pour l'appart ?").lower()
    marie.say("lundi")
    marie.say("chez moi a niort, salle de bain")
    marie.say("le ballon d'eau chaude a fui toute la nuit")
    summary = marie.say("le carrelage et le meuble vasque sont foutus, personne d'autre, aucun temoin")
    assert "Je l'enregistre" in summary, summary
    assert "franchise" not in summary.lower()
    corrected = marie.say("ah non pas la salle de bain, c'etait dans la buanderie")
    assert "buanderie" in corrected and "Je l'enregistre" in corrected
    claim = claim_filed(services, MARIE, marie.say("ok"))
    assert "buanderie" in claim["place"] and "salle de bain" not in claim["place"]
    assert claim["contract_number"] == "HAB-120034"
    assert claim["occurred_on"] == (clock.today() - dt.timedelta(days=clock.today().weekday())).isoformat()


def test_marie_asks_for_her_claim_by_its_bare_number_and_an_attestation_by_plate_in_one_message(rasa_stack):
    marie = Customer(rasa_stack, MARIE)
    answer = marie.say("bonjour il me faut l attestation de la ab123cd et aussi ou en est le dossier 731 svp")
    assert "AUT-482913" in answer and "http" in answer
    assert "SIN-2026-000731" in answer and "3 décembre 2026" in answer


def test_karim_naming_marie_s_claim_learns_nothing_about_it(rasa_stack):
    karim = Customer(rasa_stack, KARIM)
    answer = karim.say("ou en est le sin2026-731 ?")
    assert "expertise" not in answer.lower() and "3 décembre" not in answer and "Dupont" not in answer


def test_sophie_asking_for_her_old_flat_s_certificate_gets_the_reason_not_another_document(rasa_stack):
    sophie = Customer(rasa_stack, SOPHIE)
    answer = sophie.say("jai besoin de l'attestation de mon ancien logement svp, c pour la caf")
    assert "résilié" in answer
    assert "PRO-700215" not in answer and "http" not in answer


def test_a_caller_tells_her_leak_then_asks_two_more_things_and_identifies_once(rasa_stack, services):
    call = PhoneCall(rasa_stack)
    call.event("start", caller=MARIE_PHONE)
    asked = heard(call.say("oui bonjour j'ai de l'eau qui coule du plafond de la cuisine depuis ce matin, "
                           "ça vient de chez le voisin du dessus"))
    assert "date de naissance" in asked
    after = heard(call.say("douze mars quatre-vingt-cinq"))
    assert "identité est vérifiée" in after and "type de sinistre" not in after
    for _ in range(4):  # whatever is still missing, answered as a caller would
        if "Je l'enregistre" in after:
            break
        after = heard(call.say("c'est le voisin du dessus, monsieur Girard, pas de témoin, le plafond est taché"))
    assert "Je l'enregistre" in after, after
    filed = heard(call.say("oui"))
    assert "sinistre" in filed
    claim = newest_claim(services, MARIE)
    assert claim["claim_type"] == "degat_des_eaux" and claim["occurred_on"] == clock.today().isoformat()

    status = heard(call.say("et mon autre dossier le sept cent trente et un il en est où"))
    assert "date de naissance" not in status and "expert" in status.lower()
    premium = heard(call.say("et je paie combien pour la voiture"))
    assert "date de naissance" not in premium and "euros" in premium
