
import pytest

from actions.identification_dialogue import CHECKED, ActionRememberRequest, ActionResumeRequest, ValidateIdentificationForm
from tests.actions.helpers import identified, make_tracker, responses, slot_event, slot_sets
from tests.bot.helpers import latest_code, new_customer


async def answer(domain, dispatcher, slot, text, slots=None):
    """The customer answers the form's question for `slot`."""
    tracker = make_tracker(
        domain,
        slots={**(slots or {}), slot: text, "requested_slot": slot},
        text=text,
        intent="inform",
        events=[slot_event(slot, text)],
        active_loop="identification_form",
    )
    return slot_sets(await ValidateIdentificationForm().run(dispatcher, tracker, domain))


async def send_code(domain, dispatcher, services, customer):
    """Gives the right birth date; answers the check id and the code the SMS carried."""
    slots = await answer(
        domain, dispatcher, "identification_birth_date", customer["birth_date"],
        slots={"identification_customer_id": customer["customer_id"]},
    )
    assert slots["identification_birth_date"] == CHECKED
    code = latest_code(services, customer["phone"])
    return slots["identification_check_id"], code


@pytest.mark.parametrize("said, kept", [("10000001", "10000001"), ("mon identifiant c'est 10 00 00 01", "10000001"), ("1234", None)])
async def test_the_customer_id_is_eight_digits(domain, dispatcher, said, kept):
    assert (await answer(domain, dispatcher, "identification_customer_id", said))["identification_customer_id"] == kept


async def test_right_birth_date_and_sms_code_identify_the_customer(domain, dispatcher, client, services):
    customer = new_customer(services)
    check_id, code = await send_code(domain, dispatcher, services, customer)
    assert "utter_identification_code_sent" in responses(dispatcher)
    assert dispatcher.messages[-1]["sent_to"] != customer["phone"]  # masked
    slots = await answer(
        domain, dispatcher, "identification_code", f"le code c'est {code[:3]} {code[3:]}",
        slots={"identification_customer_id": customer["customer_id"], "identification_birth_date": CHECKED,
               "identification_check_id": check_id},
    )
    assert slots["authenticated_customer_id"] == customer["customer_id"]
    assert slots["customer_identified"] is True
    assert slots["identification_code"] == CHECKED  # the code itself is not kept
    assert responses(dispatcher)[-1] == "utter_identification_done"


@pytest.mark.parametrize("wrong", ["birth date", "unknown customer"])
async def test_a_wrong_birth_date_and_an_unknown_customer_get_the_same_answer(domain, dispatcher, client, services, wrong):
    customer = new_customer(services)
    customer_id = customer["customer_id"] if wrong == "birth date" else "29999999"
    slots = await answer(
        domain, dispatcher, "identification_birth_date", "01/01/1970", slots={"identification_customer_id": customer_id}
    )
    assert slots["identification_customer_id"] is None and slots["identification_birth_date"] is None
    assert responses(dispatcher) == ["utter_identification_mismatch"]


async def test_a_wrong_code_is_asked_again(domain, dispatcher, client, services):
    customer = new_customer(services)
    check_id, code = await send_code(domain, dispatcher, services, customer)
    wrong = "000000" if code != "000000" else "111111"
    slots = await answer(domain, dispatcher, "identification_code", wrong, slots={"identification_check_id": check_id})
    assert slots["identification_code"] is None and "authenticated_customer_id" not in slots
    assert responses(dispatcher)[-1] == "utter_identification_wrong_code"


async def test_three_wrong_answers_lock_identification_and_point_to_the_phone(domain, dispatcher, client, services):
    customer = new_customer(services)
    check_id, code = await send_code(domain, dispatcher, services, customer)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        slots = await answer(domain, dispatcher, "identification_code", wrong, slots={"identification_check_id": check_id})
    assert responses(dispatcher)[-1] == "utter_identification_locked"
    assert slots["requested_slot"] is None  # the form stops
    # Still locked for the right code too.
    slots = await answer(domain, dispatcher, "identification_code", code, slots={"identification_check_id": check_id})
    assert "authenticated_customer_id" not in slots


async def test_when_the_policy_service_is_down_identification_stops_with_the_alternatives(
    domain, dispatcher, unreachable_services
):
    slots = await answer(
        domain, dispatcher, "identification_birth_date", "12/03/1985", slots={"identification_customer_id": "10000001"}
    )
    assert responses(dispatcher) == ["utter_identification_unavailable"]
    assert slots["requested_slot"] is None


async def test_the_request_is_remembered_and_resumed_once_identified(domain, dispatcher):
    tracker = make_tracker(domain, text="je veux déclarer un sinistre", intent="declare_claim")
    assert slot_sets(await ActionRememberRequest().run(dispatcher, tracker, domain)) == {"pending_request": "declare_claim"}

    done = make_tracker(domain, slots=identified("10000001", pending_request="declare_claim", identification_code=CHECKED))
    events = await ActionResumeRequest().run(dispatcher, done, domain)
    assert {"event": "followup", "name": "claim_form", "timestamp": None} in events
    assert slot_sets(events)["identification_code"] is None and slot_sets(events)["pending_request"] is None


async def test_nothing_is_resumed_without_identification(domain, dispatcher):
    tracker = make_tracker(domain, slots={"pending_request": "request_attestation"})
    events = await ActionResumeRequest().run(dispatcher, tracker, domain)
    assert all(event["event"] == "slot" for event in events)
