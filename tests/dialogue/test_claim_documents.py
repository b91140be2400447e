"""Documents on the REST channel, which takes no files: how to send them, and no way for
a client to pose as a connector that received one."""

import base64
import datetime as dt
import itertools
import re
import uuid

import pytest
import requests

from devtools.espace_client import issue_session_token
from tests.reference_services.helpers import MARIE, count, execute, latest_code, new_customer, query
from tests.sample_files import jpeg_bytes, pdf_bytes

_contract_numbers = itertools.count(800001)


@pytest.fixture
def sender():
    return f"test-documents-{uuid.uuid4()}"


def user_events(rasa_stack, sender):
    return [event for event in rasa_stack.tracker(sender)["events"] if event["event"] == "user"]


def test_send_documents_explains_where_to_send_them_on_a_channel_without_files(rasa_stack, sender):
    answer = " ".join(message.get("text", "") for message in rasa_stack.say(sender, "je dois vous envoyer des photos de mon dégât des eaux"))
    assert "espace client" in answer
    assert "contact@oyat-assurances.fr" in answer
    assert "numéro de sinistre" in answer


def test_a_client_cannot_hand_files_to_the_dialogue(rasa_stack, sender):
    forged = [{"upload_id": "a" * 32, "filename": "photo.jpg", "content_type": "image/jpeg", "size": 10}]
    rasa_stack.say(sender, "/attach_document", attachments=forged, channel_phone="+33612345678", page="/contact")
    (event,) = user_events(rasa_stack, sender)
    assert event["parse_data"]["intent"]["name"] != "attach_document"
    assert event["text"] == "attach_document"
    assert "attachments" not in event["metadata"] and "channel_phone" not in event["metadata"]
    assert event["metadata"]["page"] == "/contact"
    assert rasa_stack.tracker(sender)["slots"]["pending_documents"] is None


# --- files received by a connector (tests/dialogue/file_channel.py) -------------------

def send_file(rasa_stack, sender, data, filename, content_type, **metadata):
    answer = requests.post(
        f"{rasa_stack.url}/webhooks/test_files/webhook",
        json={"sender": sender, "filename": filename, "content_type": content_type,
              "data": base64.b64encode(data).decode(), "metadata": metadata},
        timeout=30,
    )
    answer.raise_for_status()
    return texts(answer.json())


def texts(messages):
    return "\n".join(message.get("text", "") for message in messages)


def customer_with_open_claims(services, count):
    """A customer of our own (born 17/04/1992) with a home contract and `count` open claims."""
    customer = new_customer(services)
    contract = f"HAB-{next(_contract_numbers)}"
    columns = [row[1] for row in query(services, "PRAGMA table_info(contracts)")]
    chosen = ["?" if column in ("contract_number", "customer_id") else column for column in columns]
    execute(services, f"INSERT INTO contracts ({', '.join(columns)}) SELECT {', '.join(chosen)} FROM contracts"
                      " WHERE contract_number = 'HAB-120034'",
            [contract if c == "contract_number" else customer["customer_id"] for c in columns
             if c in ("contract_number", "customer_id")])
    numbers = []
    for day in range(count):
        filed = services.post(f"/v1/customers/{customer['customer_id']}/claims", headers={"Idempotency-Key": uuid.uuid4().hex}, json={
            "contract_number": contract, "claim_type": "degat_des_eaux",
            "occurred_on": (dt.date.today() - dt.timedelta(days=day + 1)).isoformat(),
            "place": "Cuisine", "circumstances": "Fuite sous l'évier.", "damage": "Placard abîmé.",
        })
        numbers.append(filed.json()["claim_number"])
    return customer, numbers


def documents_of(services, customer_id, claim_number):
    claim = services.get(f"/v1/customers/{customer_id}/claims/{claim_number}").json()
    return [document["filename"] for document in claim["documents"]]


def test_files_sent_during_the_declaration_are_read_back_and_linked_to_the_claim(rasa_stack, services, sender):
    token = issue_session_token(MARIE, rasa_stack.jwt_secret)

    def say(text):
        return texts(rasa_stack.say(sender, text, auth_token=token))

    say("je veux déclarer un sinistre")
    assert "Quand" in say('/inform{"claim_type": "degat_des_eaux"}')
    acknowledged = send_file(rasa_stack, sender, jpeg_bytes(), "fuite évier.jpg", "image/jpeg", auth_token=token)
    assert "Photo bien reçue (fuite évier.jpg)" in acknowledged
    assert "Quand" in acknowledged  # the form asks its question again
    assert "Où" in say("hier vers 18h")
    refused = send_file(rasa_stack, sender, b"<html><script>alert(1)</script></html>", "photo.jpg", "image/jpeg",
                        auth_token=token)
    assert "que des photos" in refused
    assert "ce qui s'est passé" in say("dans la cuisine de mon appartement")
    assert "dégâts" in say("le tuyau sous l'évier a lâché pendant que j'étais au travail")
    assert "autre personne" in say("le parquet de la cuisine est gonflé")
    assert "témoins" in say("Aucun tiers impliqué")
    assert "Pièces jointes : fuite évier.jpg" in say("Aucun témoin")
    summary = send_file(rasa_stack, sender, pdf_bytes(), "constat.pdf", "application/pdf", auth_token=token)
    assert "Document bien reçu (constat.pdf)" in summary
    assert "Pièces jointes : fuite évier.jpg, constat.pdf" in summary

    filed = say("oui")
    claim_number = re.search(r"SIN-\d{4}-\d{6}", filed).group(0)
    assert "Vos fichiers sont joints au dossier" in filed
    assert documents_of(services, MARIE, claim_number) == ["fuite évier.jpg", "constat.pdf"]


def test_files_sent_outside_a_declaration_go_to_the_claim_the_customer_picks(rasa_stack, services, sender):
    customer, numbers = customer_with_open_claims(services, 2)
    token = issue_session_token(customer["customer_id"], rasa_stack.jwt_secret)
    question = requests.post(
        f"{rasa_stack.url}/webhooks/test_files/webhook",
        json={"sender": sender, "filename": "plafond.jpg", "content_type": "image/jpeg",
              "data": base64.b64encode(jpeg_bytes()).decode(), "metadata": {"auth_token": token}},
        timeout=30,
    ).json()
    assert "À quel sinistre dois-je joindre plafond.jpg" in texts(question)
    payloads = [button["payload"] for button in question[-1]["buttons"]]
    assert payloads == ['/inform{"claim_number": "%s"}' % number for number in reversed(numbers)]

    done = texts(rasa_stack.say(sender, payloads[1], auth_token=token))
    assert f"plafond.jpg est joint à votre dossier {numbers[0]}" in done
    again = send_file(rasa_stack, sender, pdf_bytes(), "facture.pdf", "application/pdf", auth_token=token)
    assert f"facture.pdf est joint à votre dossier {numbers[0]}" in again  # same claim, not asked again
    assert documents_of(services, customer["customer_id"], numbers[0]) == ["plafond.jpg", "facture.pdf"]
    assert documents_of(services, customer["customer_id"], numbers[1]) == []


def test_a_visitor_not_identified_outside_a_declaration_cannot_send_files(rasa_stack, services, sender):
    rows = count(services, "claim_documents")
    refused = send_file(rasa_stack, sender, jpeg_bytes(), "vitre.jpg", "image/jpeg")
    assert "déclaration de sinistre" in refused and "n'a pas été enregistré" in refused
    assert count(services, "claim_documents") == rows
    assert user_events(rasa_stack, sender) == []  # the dialogue never saw it
    texts(rasa_stack.say(sender, "où en est mon dossier"))  # identification asked: still no declaration
    assert "déclaration de sinistre" in send_file(rasa_stack, sender, jpeg_bytes(), "vitre.jpg", "image/jpeg")
    assert count(services, "claim_documents") == rows


def test_files_sent_while_identifying_to_declare_a_claim_are_filed_with_it(rasa_stack, services, sender):
    customer, _ = customer_with_open_claims(services, 0)
    assert "identifiant client" in texts(rasa_stack.say(sender, "je veux déclarer un sinistre"))
    assert "Photo bien reçue (vitre.jpg)" in send_file(rasa_stack, sender, jpeg_bytes(), "vitre.jpg", "image/jpeg")
    assert "date de naissance" in texts(rasa_stack.say(sender, customer["customer_id"]))
    assert "Document bien reçu (devis.pdf)" in send_file(rasa_stack, sender, pdf_bytes(), "devis.pdf", "application/pdf")
    assert "SMS" in texts(rasa_stack.say(sender, "17/04/1992"))
    assert "type de sinistre" in texts(rasa_stack.say(sender, latest_code(services, customer["phone"])))

    def say(text):
        return texts(rasa_stack.say(sender, text))

    assert "Quand" in say('/inform{"claim_type": "degat_des_eaux"}')
    say("hier vers 18h")
    say("dans la cuisine")
    say("le tuyau sous l'évier a lâché")
    say("le parquet est gonflé")
    assert "Pièces jointes : vitre.jpg, devis.pdf" in say("Aucun tiers impliqué") + say("Aucun témoin")
    claim_number = re.search(r"SIN-\d{4}-\d{6}", say("oui")).group(0)
    assert documents_of(services, customer["customer_id"], claim_number) == ["vitre.jpg", "devis.pdf"]
