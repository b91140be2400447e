"""Whole conversations through the REST channel, with the real stack."""

import datetime as dt
import io
import re
import uuid

import pytest
import requests
from pypdf import PdfReader

from core import clock
from devtools.espace_client import issue_session_token
from tests.reference_services.helpers import latest_code, sent_messages

MARIE = "10000001"


def token_for(stack, customer_id, secret=None):
    return issue_session_token(customer_id, secret or stack.jwt_secret)


def texts(messages):
    return "\n".join(message.get("text", "") for message in messages)


@pytest.fixture
def sender():
    return f"test-{uuid.uuid4()}"


def test_marie_declares_a_water_leak_and_the_claim_is_filed(rasa_stack, services, sender):
    token = token_for(rasa_stack, MARIE)

    def say(text):
        return rasa_stack.say(sender, text, auth_token=token)

    assert "Bonjour" in texts(say("bonjour"))
    answer = say("je veux déclarer un sinistre")
    assert "type de sinistre" in texts(answer)
    claim_types = [button["payload"] for button in answer[-1]["buttons"]]
    assert '/inform{"claim_type": "degat_des_eaux"}' in claim_types

    # The only contract of Marie that covers water damage is chosen without asking.
    assert "Quand" in texts(say('/inform{"claim_type": "degat_des_eaux"}'))
    assert "Où" in texts(say("hier vers 18h"))
    assert "ce qui s'est passé" in texts(say("dans la cuisine de mon appartement"))
    assert "dégâts" in texts(say("le tuyau sous l'évier a lâché pendant que j'étais au travail"))
    assert "autre personne" in texts(say("le parquet de la cuisine est gonflé"))
    assert "témoins" in texts(say("Aucun tiers impliqué"))
    summary = texts(say("Aucun témoin"))
    assert "HAB-120034" in summary and "dégât des eaux" in summary and "Je l'enregistre" in summary

    filed = texts(say("oui"))
    claim_number = re.search(r"SIN-\d{4}-\d{6}", filed).group(0)
    assert "24 à 48 h" in filed

    claim = services.get(f"/v1/customers/{MARIE}/claims/{claim_number}").json()
    assert claim["contract_number"] == "HAB-120034"
    assert claim["occurred_on"] == (clock.today() - dt.timedelta(days=1)).isoformat()
    assert claim["place"] == "dans la cuisine de mon appartement"


def test_marie_gets_her_car_attestation_as_a_pdf(rasa_stack, sender):
    answer = texts(
        rasa_stack.say(sender, "il me faut une attestation d'assurance pour ma voiture", auth_token=token_for(rasa_stack, MARIE))
    )
    url = re.search(r"https?://\S+", answer).group(0)
    pdf = requests.get(url, timeout=10)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"].startswith("application/pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "AUT-482913" in text


def test_an_anonymous_visitor_is_asked_to_identify_before_any_personal_data(rasa_stack, sender):
    answer = texts(rasa_stack.say(sender, "je veux déclarer un sinistre"))
    assert "identifiant client" in answer
    assert "HAB-120034" not in answer and "AUT-482913" not in answer


def test_an_anonymous_visitor_identifies_with_an_sms_code_and_gets_the_attestation(rasa_stack, services, sender):
    assert "identifiant client" in texts(rasa_stack.say(sender, "il me faut une attestation pour ma voiture"))
    assert "date de naissance" in texts(rasa_stack.say(sender, "10000002"))
    sent = texts(rasa_stack.say(sender, "30/07/1978"))
    assert "SMS" in sent and "correspondent à un dossier" in sent and "89" not in sent
    code = latest_code(services, "+33723456789")
    answer = texts(rasa_stack.say(sender, code))
    assert "identité est vérifiée" in answer
    assert "AUT-559120" in answer and re.search(r"https?://\S+", answer)


def test_a_forged_token_is_refused_and_the_conversation_goes_on_anonymously(rasa_stack, sender):
    forged = token_for(rasa_stack, MARIE, secret="not-the-espace-client-secret-at-all")
    answer = texts(rasa_stack.say(sender, "je veux une attestation d'assurance", auth_token=forged))
    assert "session de l'espace client a expiré ou n'est pas valide" in answer
    assert "identifiant client" in answer
    assert "AUT-482913" not in answer
    assert rasa_stack.tracker(sender)["slots"]["customer_identified"] is False


def test_marie_asks_where_her_water_damage_claim_stands(rasa_stack, sender):
    answer = texts(rasa_stack.say(sender, "où en est mon dossier SIN-2026-000731", auth_token=token_for(rasa_stack, MARIE)))
    assert "expertise" in answer and "3 décembre 2026" in answer and "10 h 00" in answer


def test_a_foreign_claim_number_is_answered_like_an_unknown_one(rasa_stack, sender):
    token = token_for(rasa_stack, MARIE)
    foreign = texts(rasa_stack.say(sender, "où en est le dossier SIN-2026-000415", auth_token=token))
    unknown = texts(rasa_stack.say(sender, "où en est le dossier SIN-2026-999999", auth_token=token))
    assert foreign.replace("000415", "N") == unknown.replace("999999", "N")
    assert "412" not in foreign


def test_karim_has_a_beneficiary_change_filed_with_a_reference(rasa_stack, sender):
    token = token_for(rasa_stack, "10000002")
    clause = texts(rasa_stack.say(sender, "je voudrais modifier les bénéficiaires de mon contrat", auth_token=token))
    assert "PRV-300871" in clause and "conjoint" in clause
    assert "Décrivez" in texts(rasa_stack.say(sender, "oui", auth_token=token))
    read_back = texts(rasa_stack.say(sender, "ajouter ma sœur Leïla comme bénéficiaire", auth_token=token))
    assert "« ajouter ma sœur Leïla comme bénéficiaire »" in read_back and "Je l'envoie ?" in read_back
    filed = texts(rasa_stack.say(sender, "oui", auth_token=token))
    assert re.search(r"DEM-\d{4}-\d{6}", filed) and "10 jours" in filed


def test_an_identified_customer_gets_the_password_reset_email(rasa_stack, services, sender):
    token = token_for(rasa_stack, MARIE)
    assert "Mot de passe oublié" in texts(rasa_stack.say(sender, "j'ai oublié mon mot de passe", auth_token=token))
    before = len(sent_messages(services, "marie.dupont@example.fr"))
    assert "e-mail de réinitialisation vient d'être envoyé" in texts(rasa_stack.say(sender, "oui", auth_token=token))
    after = sent_messages(services, "marie.dupont@example.fr")
    assert len(after) == before + 1


def test_the_school_certificate_says_it_is_the_school_certificate(rasa_stack, sender):
    token = token_for(rasa_stack, MARIE)
    answer = texts(rasa_stack.say(sender, "il me faut l attestation scolaire pour la cantine de mon fils", auth_token=token))
    if "HAB-120034" not in answer or "http" not in answer:  # asked which contract
        answer = texts(rasa_stack.say(sender, "HAB-120034", auth_token=token))
    assert "attestation scolaire" in answer and "HAB-120034" in answer and re.search(r"https?://\S+", answer)
