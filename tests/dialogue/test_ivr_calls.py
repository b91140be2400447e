"""Whole phone calls through the telephone channel, with the real stack: the events a
voice gateway posts, the voice actions it gets back."""

import re
import subprocess
import sys
import uuid

import requests

from connectors.speech import to_speech
from tests.dialogue.conftest import IVR_GATEWAY_TOKEN, ROOT
from tests.reference_services.helpers import execute, new_customer, sent_messages

MARIE = "10000001"


class PhoneCall:
    """One call, as the voice gateway places it."""

    def __init__(self, stack) -> None:
        self.url = f"{stack.url}/webhooks/ivr/events"
        self.call_id = f"test-call-{uuid.uuid4()}"

    def event(self, kind: str, **fields) -> dict:
        answer = requests.post(
            self.url,
            json={"event_id": str(uuid.uuid4()), "call_id": self.call_id, "type": kind, **fields},
            headers={"Authorization": f"Bearer {IVR_GATEWAY_TOKEN}"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def say(self, transcript: str) -> dict:
        return self.event("utterance", final=True, alternatives=[{"transcript": transcript, "confidence": 0.92}])

    def press(self, digits: str) -> dict:
        return self.event("dtmf", digits=digits)


def heard(reply: dict) -> str:
    return " ".join(action["text"] for action in reply["actions"] if action["type"] == "say")


def last_action(reply: dict) -> str:
    return reply["actions"][-1]["type"]


def outbox(services, recipient: str) -> list:
    return sent_messages(services, recipient)


def test_marie_calls_declares_a_water_leak_and_hears_her_claim_number(rasa_stack, services):
    call = PhoneCall(rasa_stack)
    greeting = call.event("start", caller="+33612345678")
    assert heard(greeting).startswith("Bonjour") and "Tapez 1" in heard(greeting)

    # Identified by the number she calls from and her date of birth, said in words.
    assert "date de naissance" in heard(call.say("je veux déclarer un sinistre"))
    claim_type = call.say("le douze mars mille neuf cent quatre-vingt-cinq")
    assert "identité est vérifiée" in heard(claim_type)
    assert "type de sinistre" in heard(claim_type) and "« Dégât des eaux »" in heard(claim_type)
    water = next(digit for digit, title in re.findall(r"(\d) pour « ([^»]+) »", heard(claim_type)) if "eaux" in title)

    assert "Quand" in heard(call.press(water))
    assert "Où" in heard(call.say("hier vers dix-huit heures"))
    assert "ce qui s'est passé" in heard(call.say("dans la cuisine de mon appartement"))
    assert "dégâts" in heard(call.say("le tuyau sous l'évier a lâché pendant que j'étais au travail"))
    assert "autre personne" in heard(call.say("le parquet de la cuisine est gonflé"))
    assert "témoins" in heard(call.press("1"))  # « Non, personne »
    summary = call.say("aucun témoin")
    assert "H A B, 120, zéro 34" in heard(summary) and "Je l'enregistre ?" in heard(summary)
    assert not re.search(r"https?://|\*\*|\n", heard(summary))

    filed = call.say("oui c'est bien ça")
    claims = services.get(f"/v1/customers/{MARIE}/claims").json()["claims"]
    newest = max(claims, key=lambda claim: claim["claim_number"])
    assert newest["claim_type"] == "degat_des_eaux" and newest["contract_number"] == "HAB-120034"
    spoken_number = to_speech(newest["claim_number"]).text.rstrip(".")
    assert heard(filed).count(spoken_number) == 2  # said twice, to be written down
    assert '<say-as interpret-as="characters">SIN</say-as>' in filed["actions"][0]["ssml"]
    assert last_action(filed) == "listen"

    goodbye = call.say("au revoir")
    assert last_action(goodbye) == "hangup"


def test_an_attestation_asked_on_the_phone_is_emailed_to_the_address_on_file(rasa_stack, services):
    call = PhoneCall(rasa_stack)
    call.event("start", caller="06 12 34 56 78")
    before = outbox(services, "marie.dupont@example.fr")
    asked = heard(call.say("il me faut une attestation d'assurance pour ma voiture"))
    assert "date de naissance" in asked and "tapez-la sur le clavier" in asked
    reply = call.press("12031985#")

    assert "envoyée par e-mail" in heard(reply)
    assert not re.search(r"https?://", heard(reply) + " ".join(a.get("ssml", "") for a in reply["actions"]))
    sent = outbox(services, "marie.dupont@example.fr")
    assert len(sent) == len(before) + 1
    email = sent[-1]
    assert "AUT-482913" in email["subject"]
    link = re.search(r"https?://\S+", email["body"]).group(0)
    pdf = requests.get(link, timeout=10)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"].startswith("application/pdf")


def test_the_phone_simulator_places_a_call_as_the_gateway_would(rasa_stack, services):
    """`make phone`: Sophie calls, stays silent once, picks the attestation on the keypad."""
    typed = "\n".join(["", "#2", "le cinq novembre mille neuf cent quatre-vingt-dix", "au revoir", ""])
    before = outbox(services, "s.martin@example.fr")
    result = subprocess.run(
        [sys.executable, "-m", "devtools.phone_simulator", "--url", rasa_stack.url, "--caller", "06 98 76 54 32"],
        input=typed, capture_output=True, text=True, timeout=180, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "IVR_GATEWAY_TOKEN": IVR_GATEWAY_TOKEN, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    assert "Appel de 06 98 76 54 32" in shown and "Bonjour" in shown
    assert "Je ne vous entends pas." in shown
    assert "envoyée par e-mail" in shown and "P R O, 700, 215" in shown
    assert "(l'assistant raccroche" in shown
    sent = outbox(services, "s.martin@example.fr")
    assert len(sent) == len(before) + 1 and "PRO-700215" in sent[-1]["subject"]


def test_an_event_nested_thirty_thousand_levels_deep_gets_a_400(rasa_stack):
    body = b'{"event_id": "e", "call_id": "c", "type": "start", "caller": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    answer = requests.post(f"{rasa_stack.url}/webhooks/ivr/events", data=body, timeout=30,
                           headers={"Authorization": f"Bearer {IVR_GATEWAY_TOKEN}"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"
    # The line still answers.
    assert heard(PhoneCall(rasa_stack).event("start", caller="+33612345678")).startswith("Bonjour")


def test_a_caller_with_three_requests_identifies_once_for_the_whole_call(rasa_stack):
    call = PhoneCall(rasa_stack)
    call.event("start", caller="+33612345678")
    assert "date de naissance" in heard(call.say("euh oui bonjour je voudrais savoir ce que couvrent mes contrats"))
    contracts = heard(call.say("le douze mars mille neuf cent quatre-vingt-cinq"))
    assert "identité est vérifiée" in contracts and "Franchise" in contracts
    assert "Je n'ai pas bien compris" not in contracts
    payments = heard(call.say("et combien je paie pour la voiture"))
    status = heard(call.say("et mon dégât des eaux il en est où"))
    attestation = heard(call.say("il me faudrait aussi une attestation pour la voiture"))
    for answer in (payments, status, attestation):
        assert "date de naissance" not in answer and "Je n'ai pas bien compris" not in answer
    assert "A U T, 482, 913" in payments and "expertise" in status and "envoyée par e-mail" in attestation


def test_a_caller_whose_number_phonenumbers_does_not_know_is_matched_on_file(rasa_stack, services):
    customer = new_customer(services, birth_date="1979-06-21")
    # A French mobile number in a range the phonenumbers metadata does not list.
    execute(services, "UPDATE customers SET phone = ? WHERE customer_id = ?", ("+33639981234", customer["customer_id"]))
    call = PhoneCall(rasa_stack)
    call.event("start", caller="06 39 98 12 34")
    assert "date de naissance" in heard(call.say("je veux connaitre mes contrats"))
    assert "identité est vérifiée" in heard(call.press("21061979#"))


def test_two_requests_in_one_sentence_are_both_served_after_one_identification(rasa_stack, services):
    call = PhoneCall(rasa_stack)
    call.event("start", caller="+33612345678")
    asked = heard(call.say("il me faut une attestation pour ma voiture et aussi où en est mon sinistre"))
    assert "date de naissance" in asked
    both = heard(call.press("12031985#"))
    assert both.index("identité est vérifiée") < both.index("envoyée par e-mail") < both.index(
        "Passons à votre deuxième demande") < both.index("expertise")
