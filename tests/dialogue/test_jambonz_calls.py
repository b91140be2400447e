"""Whole phone calls carried by jambonz (webhook mode), with the real stack: the webhooks
jambonz posts (payloads of docs.jambonz.org, signed with the account's webhook secret as
jambonz signs them), the verbs it gets back, each array validated by the vendor's own
@jambonz/verb-specifications."""

import re
import statistics
import subprocess
import sys
import uuid

import pytest

from connectors.guard import conversation_id
from connectors.ivr_actions import HANDOFF_SIP_HEADER
from connectors.speech import to_speech
from tests.connectors.jambonz_gateway import Call, Jambonz, VerbValidator, kinds, speech, spoken
from tests.dialogue.conftest import JAMBONZ_WEBHOOK_SECRET, ROOT
from tests.reference_services.helpers import query, sent_messages

MARIE_EMAIL = "marie.dupont@example.fr"
BIRTH_DATE_SAID = "le douze mars mille neuf cent quatre-vingt-cinq"


# The answer times of these calls, printed for docs/ivr-api.md (`-s`); that the line answers
# within jambonz's wait is pinned with a slow assistant in tests/connectors/test_jambonz.py
# (a figure, never asserted on a shared machine: make bench measures performance).
TIMINGS: list = []


@pytest.fixture(scope="module")
def validator():
    running = VerbValidator()
    yield running
    running.close()
    if TIMINGS:
        ordered = sorted(TIMINGS)
        print(f"\njambonz webhooks: {len(ordered)}, median {statistics.median(ordered):.2f} s, "
              f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.2f} s, max {ordered[-1]:.2f} s")


def jambonz_of(stack, validator) -> Jambonz:
    return Jambonz(stack.url, JAMBONZ_WEBHOOK_SECRET, validator, TIMINGS)


def heard(verbs) -> str:
    """What the caller hears, without the SSML tags."""
    return re.sub(r"<[^>]+>", "", spoken(verbs))


def test_marie_calls_through_jambonz_for_an_attestation_and_gets_one_email(rasa_stack, services, validator):
    # Her carrier sends her number without « + » (336…): she is still recognised by it.
    call = Call(jambonz_of(rasa_stack, validator), str(uuid.uuid4()), "33612345678")
    greeting = call.start()
    assert heard(greeting).startswith("Bonjour") and "Tapez 1" in heard(greeting)
    gather = greeting[-1]
    assert gather["verb"] == "gather" and gather["recognizer"]["language"] == "fr-FR"
    assert "Une attestation" in gather["recognizer"]["hints"]

    before = len(sent_messages(services, MARIE_EMAIL))
    asked = call.say("il me faut une attestation d'assurance pour ma voiture")
    assert "date de naissance" in heard(asked)
    # Her birth date, said in words; jambonz retries the hook (#rc=…): one e-mail all the same.
    hook, payload = call.next_hook(), call.payload(**speech((BIRTH_DATE_SAID, 0.91)))
    sent = call.jambonz.verbs(hook, payload)
    assert call.jambonz.verbs(hook, payload) == sent
    assert "identité est vérifiée" in heard(sent) and "envoyée par e-mail" in heard(sent)
    assert not re.search(r"https?://", spoken(sent))
    emails = sent_messages(services, MARIE_EMAIL)
    assert len(emails) == before + 1 and "AUT-482913" in emails[-1]["subject"]

    call.last = sent
    goodbye = call.say("au revoir")
    assert kinds(goodbye)[-1] == "hangup"
    assert call.status("completed").status_code == 204


def test_a_claim_status_asked_with_a_spelled_claim_number(rasa_stack, validator):
    call = Call(jambonz_of(rasa_stack, validator), str(uuid.uuid4()), "+33612345678")
    call.start()
    asked = call.say("où en est mon dossier s i n deux mille vingt-six sept cent trente et un")
    assert "date de naissance" in heard(asked)
    answer = call.say(BIRTH_DATE_SAID)
    assert "identité est vérifiée" in heard(answer)
    # Read for the ear, in SSML: « S I N, 2026, zéro zéro zéro, 731 ».
    claim_number = re.sub(r"^<speak[^>]*>|\.?</speak>$", "", to_speech("SIN-2026-000731").ssml)
    assert claim_number in spoken(answer) and "expertise" in heard(answer)


def test_keypad_choices_silences_and_a_badly_heard_turn(rasa_stack, services, validator):
    call = Call(jambonz_of(rasa_stack, validator), str(uuid.uuid4()), "06 12 34 56 78")
    greeting = call.start()
    menu = {title: digit for digit, title in re.findall(r"(\d) pour « ([^»]+) »", heard(greeting))}
    assert greeting[-1]["numDigits"] == 1
    # A keypad choice of the menu: the button's payload.
    asked = call.press(menu["Une attestation"])
    assert "date de naissance" in heard(asked) and "tapez-la sur le clavier" in heard(asked)
    assert asked[-1]["finishOnKey"] == "#"

    # One silence: said so, the question again.
    again = call.silence()
    assert "Je ne vous entends pas" in heard(again) and "date de naissance" in heard(again)
    # Heard too badly (jambonz's stt-low-confidence): asked to repeat, nothing acted on.
    before = len(sent_messages(services, MARIE_EMAIL))
    repeat = call.hook({"reason": "stt-low-confidence", "speech": {"is_final": True, "alternatives": [
        {"transcript": "le douze mars mille neuf cent quatre-vingt-cinq", "confidence": 0.22}]}})
    assert "Pardon, je n'ai pas bien compris" in heard(repeat)
    assert "identité est vérifiée" not in heard(repeat)
    assert len(sent_messages(services, MARIE_EMAIL)) == before
    # Then the date on the keypad; which contract, on the keypad too.
    contracts = heard(call.press("12031985#"))
    assert "identité est vérifiée" in contracts and "Pour quel contrat" in contracts
    car = next(digit for digit, title in re.findall(r"(\d) pour « ([^»]+) »", contracts) if "auto" in title)
    sent = call.press(car)
    assert "envoyée par e-mail" in heard(sent)
    assert len(sent_messages(services, MARIE_EMAIL)) == before + 1


def test_two_silences_out_of_hours_end_the_call_politely(rasa_stack, validator):
    call = Call(jambonz_of(rasa_stack, validator), str(uuid.uuid4()), "+33612345678")
    call.start()
    assert "Je ne vous entends pas" in heard(call.silence())
    second = call.silence()
    assert kinds(second)[-1] == "hangup"
    assert "dial" not in kinds(second)


def test_in_office_hours_two_silences_put_the_caller_through_with_the_reference_only(
        rasa_stack_in_office_hours, services, validator):
    call = Call(jambonz_of(rasa_stack_in_office_hours, validator), str(uuid.uuid4()), "+33612345678")
    call.start()
    call.silence()
    verbs = call.silence()
    [dial] = [verb for verb in verbs if verb["verb"] == "dial"]
    [(reference,)] = query(services, "SELECT reference FROM handoffs WHERE conversation_id = ?",
                           [conversation_id("ivr", f"jambonz/{call.call_sid}")])
    assert dial["headers"] == {HANDOFF_SIP_HEADER: reference}
    assert dial["target"][0]["type"] == "phone"
    # The adviser answered, then hung up: the call ends; jambonz tells the call is over.
    assert call.hook({"dial_call_status": "completed", "dial_sip_status": 200}) == [{"verb": "hangup"}]
    assert call.status("completed").status_code == 204


def test_make_phone_places_a_call_through_jambonz(rasa_stack, services):
    """`make phone GATEWAY=jambonz`: Sophie calls, stays silent once, picks the attestation."""
    typed = "\n".join(["", "#2", "le cinq novembre mille neuf cent quatre-vingt-dix", "au revoir", ""])
    before = len(sent_messages(services, "s.martin@example.fr"))
    result = subprocess.run(
        [sys.executable, "-m", "devtools.phone_simulator", "--url", rasa_stack.url, "--caller", "06 98 76 54 32",
         "--gateway", "jambonz"],
        input=typed, capture_output=True, text=True, timeout=180, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "JAMBONZ_WEBHOOK_SECRET": JAMBONZ_WEBHOOK_SECRET, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    assert "Bonjour" in shown and "Je ne vous entends pas." in shown
    assert "envoyée par e-mail" in shown and "(l'assistant raccroche" in shown
    sent = sent_messages(services, "s.martin@example.fr")
    assert len(sent) == before + 1 and "PRO-700215" in sent[-1]["subject"]
