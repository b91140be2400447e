"""Identification when the channel verified the customer's phone number (`channel_phone`)."""

import uuid

import pytest

from actions.identification_dialogue import CHECKED, ActionRememberRequest, ValidateIdentificationForm
from tests.actions.helpers import make_tracker, responses, slot_event, slot_sets
from tests.conftest import channel_phone_assertion
from tests.reference_services.helpers import count, execute, latest_code, new_customer

FORM = "identification_form"
# Each test its own conversation: the policy service counts wrong answers per conversation.
conversation = {"sender_id": "test-conversation"}


@pytest.fixture(autouse=True)
def own_conversation():
    conversation["sender_id"] = f"test-{uuid.uuid4()}"


def phone_tracker(domain, phone, *, channel="whatsapp", slot=None, text="", slots=None, active=True,
                  signature=None):
    """A message from a channel that verified `phone`; `slot` is the answer being validated.
    The telephone line signs the number for the call (`signature`: another one, "" for none)."""
    metadata = {"channel_phone": phone}
    if channel == "ivr":
        metadata["channel_phone_assertion"] = (
            channel_phone_assertion(phone, conversation["sender_id"]) if signature is None else signature)
    tracker = make_tracker(
        domain,
        slots={**(slots or {}), **({slot: text, "requested_slot": slot} if slot else {})},
        text=text,
        intent="inform",
        metadata=metadata,
        events=[slot_event(slot, text)] if slot else [],
        active_loop=FORM if active else None,
        sender_id=conversation["sender_id"],
    )
    tracker.events[0]["input_channel"] = channel
    return tracker


def said(dispatcher):
    return [(message.get("response"), message.get("sent_to")) for message in dispatcher.messages]


async def validate(domain, dispatcher, tracker):
    return slot_sets(await ValidateIdentificationForm().run(dispatcher, tracker, domain))


def sms_code(services, customer):
    return latest_code(services, customer["phone"])


async def test_the_form_starts_with_the_birth_date_when_the_channel_verified_the_phone(domain, dispatcher):
    slots = await validate(domain, dispatcher, phone_tracker(domain, "+33612345678", active=False))
    assert slots == {"requested_slot": "identification_birth_date"}


async def test_without_a_verified_phone_the_form_asks_the_customer_id_as_before(domain, dispatcher):
    tracker = make_tracker(domain, text="je veux une attestation", intent="request_attestation")
    assert "requested_slot" not in await validate(domain, dispatcher, tracker)


async def test_a_phone_that_is_not_e164_is_ignored(domain, dispatcher):
    slots = await validate(domain, dispatcher, phone_tracker(domain, "06 12 34 56 78", active=False))
    assert "requested_slot" not in slots


async def test_phone_birth_date_and_sms_code_identify_the_customer(domain, dispatcher, client, services):
    customer = new_customer(services)
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, customer["phone"], slot="identification_birth_date", text="le 17 avril 1992"))
    assert slots["identification_birth_date"] == CHECKED
    assert slots["requested_slot"] == "identification_code"
    assert responses(dispatcher) == ["utter_identification_code_sent_to_phone"]
    assert dispatcher.messages[-1]["sent_to"] == "06 ** ** ** " + customer["phone"][-2:]

    code = sms_code(services, customer)
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, customer["phone"], slot="identification_code", text=code,
        slots={"identification_birth_date": CHECKED, "identification_check_id": slots["identification_check_id"]}))
    assert slots["authenticated_customer_id"] == customer["customer_id"]
    assert slots["customer_identified"] is True
    assert slots["requested_slot"] is None  # the form is done
    assert responses(dispatcher)[-1] == "utter_identification_done"


async def test_on_the_telephone_line_phone_and_birth_date_identify_without_a_code(domain, dispatcher, client, services):
    customer = new_customer(services)
    sms_before = count(services, "outbox", "recipient = ?", (customer["phone"],))
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, customer["phone"], channel="ivr", slot="identification_birth_date", text="17 avril 1992"))
    assert slots["authenticated_customer_id"] == customer["customer_id"]
    assert slots["identification_birth_date"] == CHECKED
    assert slots["requested_slot"] is None
    assert responses(dispatcher) == ["utter_identification_done"]
    assert count(services, "outbox", "recipient = ?", (customer["phone"],)) == sms_before


@pytest.mark.parametrize("signature", ["", "forged", "another call"])
async def test_on_the_telephone_line_a_number_the_line_did_not_sign_identifies_nobody(
    domain, dispatcher, client, services, signature
):
    """No retry helps the caller: the form stops as when the service is down, nothing counted."""
    customer = new_customer(services)
    signature = {"": "", "forged": channel_phone_assertion(customer["phone"], conversation["sender_id"],
                                                           secret="forged-" + "x" * 40),
                 "another call": channel_phone_assertion(customer["phone"], "ivr:another-call")}[signature]
    for _ in range(3):
        slots = await validate(domain, dispatcher, phone_tracker(
            domain, customer["phone"], channel="ivr", slot="identification_birth_date", text="17 avril 1992",
            signature=signature))
        assert "authenticated_customer_id" not in slots and "identity_assertion" not in slots
        assert slots["requested_slot"] is None
        assert responses(dispatcher)[-1] == "utter_identification_unavailable"
    # Nothing was counted: the signed number of the call still identifies the caller.
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, customer["phone"], channel="ivr", slot="identification_birth_date", text="17 avril 1992"))
    assert slots["authenticated_customer_id"] == customer["customer_id"]


@pytest.mark.parametrize("wrong", ["birth date", "unknown phone"])
async def test_on_a_messaging_app_a_wrong_birth_date_or_an_unknown_phone_get_the_answer_of_a_right_one(
    domain, dispatcher, client, services, wrong
):
    customer = new_customer(services)
    phone = customer["phone"] if wrong == "birth date" else "+33611111111"
    birth_date = "01/01/1970" if wrong == "birth date" else "17/04/1992"
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, phone, slot="identification_birth_date", text=birth_date))
    assert slots["identification_birth_date"] == CHECKED
    assert slots["requested_slot"] == "identification_code"
    assert said(dispatcher) == [("utter_identification_code_sent_to_phone", "06 ** ** ** " + phone[-2:])]
    assert count(services, "outbox", "recipient = ?", (customer["phone"],)) == 0


@pytest.mark.parametrize("wrong", ["birth date", "unknown phone"])
async def test_on_the_telephone_line_a_wrong_birth_date_and_an_unknown_phone_get_the_same_answer(
    domain, dispatcher, client, services, wrong
):
    customer = new_customer(services)
    phone = customer["phone"] if wrong == "birth date" else "+33611111113"
    birth_date = "01/01/1970" if wrong == "birth date" else "17/04/1992"
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, phone, channel="ivr", slot="identification_birth_date", text=birth_date))
    assert slots == {"identification_birth_date": None, "requested_slot": "identification_birth_date"}
    assert responses(dispatcher) == ["utter_identification_phone_mismatch"]


async def test_three_wrong_birth_dates_on_the_telephone_line_lock_identification(domain, dispatcher, client, services):
    customer = new_customer(services)
    for _ in range(3):
        slots = await validate(domain, dispatcher, phone_tracker(
            domain, customer["phone"], channel="ivr", slot="identification_birth_date", text="01/01/1970"))
    assert responses(dispatcher)[-1] == "utter_identification_locked"
    assert slots["requested_slot"] is None  # the form stops, nothing else is asked
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, customer["phone"], channel="ivr", slot="identification_birth_date", text="17/04/1992"))
    assert "authenticated_customer_id" not in slots and responses(dispatcher)[-1] == "utter_identification_locked"


async def test_on_a_messaging_app_without_an_sms_the_customer_gives_the_customer_id(domain, dispatcher, client, services):
    customer = new_customer(services)
    started = await validate(domain, dispatcher, phone_tracker(
        domain, "+33611111114", slot="identification_birth_date", text="17/04/1992"))
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, "+33611111114", slot="identification_code", text=f"mon identifiant est {customer['customer_id']}",
        slots={"identification_birth_date": CHECKED, "identification_check_id": started["identification_check_id"]}))
    assert slots["identification_by_customer_id"] is True
    assert slots["identification_customer_id"] == customer["customer_id"]
    assert slots["identification_birth_date"] is None


async def test_the_customer_may_give_the_customer_id_instead(domain, dispatcher, client, services):
    customer = new_customer(services)
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, "+33611111112", slot="identification_birth_date", text=f"mon identifiant est {customer['customer_id']}"))
    # Back to the domain's form (customer id, birth date, code): Rasa asks the birth date next.
    assert slots == {"identification_by_customer_id": True, "identification_customer_id": customer["customer_id"],
                     "identification_birth_date": None}
    # From then on the customer id is checked, not the channel's number.
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, "+33611111112", slot="identification_birth_date", text="17/04/1992",
        slots={"identification_by_customer_id": True, "identification_customer_id": customer["customer_id"]}))
    assert slots["identification_birth_date"] == CHECKED
    assert responses(dispatcher)[-1] == "utter_identification_code_sent"


async def test_a_phone_shared_by_two_customers_born_the_same_day_asks_the_customer_id(
    domain, dispatcher, client, services
):
    first = new_customer(services, birth_date="1970-01-01")
    second = new_customer(services, birth_date="1970-01-01")
    execute(services, "UPDATE customers SET phone = ? WHERE customer_id = ?", (first["phone"], second["customer_id"]))
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, first["phone"], slot="identification_birth_date", text="01/01/1970"))
    assert responses(dispatcher) == ["utter_identification_phone_ambiguous"]
    # Back to the domain's form: Rasa asks the customer id next.
    assert slots["identification_by_customer_id"] is True and slots["identification_birth_date"] is None
    assert "requested_slot" not in slots


async def test_policy_service_down_stops_the_phone_identification(domain, dispatcher, unreachable_services):
    slots = await validate(domain, dispatcher, phone_tracker(
        domain, "+33612345678", slot="identification_birth_date", text="12/03/1985"))
    assert responses(dispatcher) == ["utter_identification_unavailable"]
    assert slots["requested_slot"] is None


async def test_the_introduction_says_the_phone_number_is_used(domain, dispatcher):
    tracker = phone_tracker(domain, "+33612345678", active=False)
    tracker.latest_message["intent"] = {"name": "declare_claim", "confidence": 1.0}
    await ActionRememberRequest().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_identification_intro_phone"]
