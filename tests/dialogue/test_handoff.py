"""The hand-off out of office hours, with the real stack (its OFFICE_HOURS is one morning
a week that is never today: tests/dialogue/conftest.py): the advisers' hours and the
channels that take a request meanwhile, never an immediate answer on the closed line."""

import uuid

from tests.dialogue.conftest import OFFICE_HOURS
from tests.dialogue.test_ivr_calls import PhoneCall, heard, last_action

DAY_NAMES = {"lun": "lundi", "mar": "mardi", "mer": "mercredi", "jeu": "jeudi", "ven": "vendredi", "sam": "samedi",
             "dim": "dimanche"}
HOURS = f"le {DAY_NAMES[OFFICE_HOURS[:3]]} de 9 h à 12 h"


def test_out_of_hours_a_customer_asking_for_an_adviser_gets_the_hours_and_the_written_channels(rasa_stack):
    answer = "\n".join(message.get("text", "") for message in rasa_stack.say(
        f"test-{uuid.uuid4()}", "je veux parler a un humain svp c urgent"))
    assert HOURS in answer
    assert "48 à 72 h" in answer and "contact@oyat-assurances.fr" in answer and "CS 38735" in answer
    assert "immédiate" not in answer and "Je transmets" not in answer


def test_out_of_hours_a_caller_asking_for_an_adviser_is_not_transferred(rasa_stack):
    call = PhoneCall(rasa_stack)
    call.event("start", caller="+33612345678")
    reply = call.say("je voudrais parler à un conseiller")
    said = heard(reply)
    # Said aloud: « 9 heures à 12 heures ».
    assert "ne peuvent pas prendre votre appel maintenant" in said and HOURS.replace(" h", " heures") in said
    assert "immédiate" not in said
    assert all(action["type"] != "transfer" for action in reply["actions"]) and last_action(reply) == "listen"
