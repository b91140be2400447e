"""Identification through the REST channel with the real stack: every answer is the same
for an unknown customer id as for a real one with a wrong birth date, and a stranger's
wrong answers never lock the customer out (docs/identification.md).

Each visitor comes from an address of their own on the loopback (127.0.0.x): the
channel passes it as the conversation's source, and the other tests' conversations,
from 127.0.0.1, must not share a stranger's lock."""

import itertools
import uuid

import requests
from requests.adapters import HTTPAdapter

from tests.dialogue.test_ivr_calls import PhoneCall, heard
from tests.reference_services.helpers import latest_code

MARIE, MARIE_PHONE, SOPHIE = "10000001", "+33612345678", "10000003"
UNKNOWN_CUSTOMER = "19999999"
_addresses = (f"127.0.0.{n}" for n in itertools.count(20))


class _FromAddress(HTTPAdapter):
    """Connections from one local address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Visitor:
    """One REST conversation, from an address of its own unless given one."""

    def __init__(self, stack, address=None) -> None:
        self.stack = stack
        self.sender = f"test-{uuid.uuid4()}"
        self.http = requests.Session()
        self.http.mount("http://", _FromAddress(address or next(_addresses)))

    def say(self, text: str) -> str:
        answer = self.http.post(f"{self.stack.url}/webhooks/rest/webhook",
                                json={"sender": self.sender, "message": text}, timeout=30)
        answer.raise_for_status()
        return "\n".join(message.get("text", "") for message in answer.json())


ATTESTATION = "il me faut une attestation d'assurance pour ma voiture"
ASKS_CODE, ASKS_BIRTH_DATE, ASKS_CUSTOMER_ID = (
    "Quel est le code à 6 chiffres", "Quelle est votre date de naissance", "Quel est votre identifiant client")
LOCKED = "Par sécurité, l'identification est bloquée"


def answers_wrongly_until_locked_twice(visitor, customer_id, birth_date):
    """Asks for an attestation and answers what the assistant asks (`customer_id`,
    `birth_date`, then a wrong code) until identification is locked; asks again once
    locked, and goes on until the second lock: everything the visitor is told."""
    told = [visitor.say(ATTESTATION)]
    wrong_codes = iter(["123456", "654321", "111111", "222222", "333333"])
    for _ in range(16):
        last = told[-1]
        if LOCKED in last:
            if sum(LOCKED in answer for answer in told) == 2:
                break
            reply = ATTESTATION
        elif ASKS_CODE in last:
            reply = next(wrong_codes)
        elif ASKS_BIRTH_DATE in last:
            reply = birth_date
        elif ASKS_CUSTOMER_ID in last:
            reply = customer_id
        else:
            raise AssertionError(f"unexpected answer: {last}")
        told.append(visitor.say(reply))
    return told


def test_an_unknown_customer_id_is_answered_like_a_real_one_at_every_step(rasa_stack):
    real = answers_wrongly_until_locked_twice(Visitor(rasa_stack), SOPHIE, "01/01/1970")
    unknown = answers_wrongly_until_locked_twice(Visitor(rasa_stack), UNKNOWN_CUSTOMER, "01/01/1970")
    assert unknown == real
    assert "Si cet identifiant et cette date de naissance correspondent à un dossier" in real[2]
    assert [LOCKED in answer for answer in real].count(True) == 2
    locked = next(answer for answer in real if LOCKED in answer)
    assert "15 minutes" in locked and "0825 07 11 22" in locked
    assert real.index(locked) == 5  # on the third wrong code


def test_a_strangers_wrong_answers_never_lock_marie_out_of_her_conversation_nor_her_phone_line(
        rasa_stack, services):
    told = answers_wrongly_until_locked_twice(Visitor(rasa_stack), MARIE, "01/01/1970")
    assert LOCKED in told[-1]

    # Marie, in her own conversation from her own address: birth date, then the SMS code.
    marie = Visitor(rasa_stack, address="127.0.0.1")
    assert ASKS_CUSTOMER_ID in marie.say(ATTESTATION)
    assert "date de naissance" in marie.say(MARIE)
    assert "correspondent à un dossier" in marie.say("12/03/1985")
    identified = marie.say(latest_code(services, MARIE_PHONE))
    assert "identité est vérifiée" in identified and "AUT-482913" in identified

    # And on the telephone line, from her number.
    call = PhoneCall(rasa_stack)
    call.event("start", caller=MARIE_PHONE)
    assert "date de naissance" in heard(call.say(ATTESTATION))
    assert "envoyée par e-mail" in heard(call.press("12031985#"))
