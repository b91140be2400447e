"""The identification form, validated against the real policy service: the same answers
whether the customer id exists and the birth date is right or not, and locks per
conversation and per source."""
import uuid

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.identification_dialogue import (
    CHECKED,
    ActionRememberRequest,
    ActionResumeRequest,
    ValidateIdentificationForm,
)
from tests.actions.helpers import identified, make_tracker, responses, slot_event, slot_sets
from tests.reference_services.helpers import count, latest_code, new_customer

UNKNOWN_CUSTOMER = "29999999"


class Conversation:
    """One conversation of the form, from one source (the channel's `client_source`)."""

    def __init__(self, domain, source=None):
        self.domain = domain
        self.sender_id = f"test-{uuid.uuid4()}"
        self.source = source

    async def answer(self, dispatcher, slot, text, slots=None):
        """The customer answers the form's question for `slot`."""
        tracker = make_tracker(
            self.domain,
            slots={**(slots or {}), slot: text, "requested_slot": slot},
            text=text,
            intent="inform",
            events=[slot_event(slot, text)],
            active_loop="identification_form",
            metadata={"client_source": self.source} if self.source else None,
            sender_id=self.sender_id,
        )
        return slot_sets(await ValidateIdentificationForm().run(dispatcher, tracker, self.domain))

    async def give_birth_date(self, dispatcher, customer_id, birth_date):
        self.customer_id = customer_id
        return await self.answer(dispatcher, "identification_birth_date", birth_date,
                                 slots={"identification_customer_id": customer_id})

    async def give_code(self, dispatcher, check_id, code):
        return await self.answer(dispatcher, "identification_code", code, slots={
            "identification_customer_id": self.customer_id, "identification_birth_date": CHECKED,
            "identification_check_id": check_id})


@pytest.fixture
def conversation(domain):
    return Conversation(domain, source=f"test-source-{uuid.uuid4().hex}")


def wrong_code(code):
    return "000000" if code != "000000" else "111111"


def said(dispatcher):
    """What the customer was told, with the values of the response (not the check ids)."""
    return [(m.get("response"), m.get("sent_to")) for m in dispatcher.messages]


@pytest.mark.parametrize("said_id, kept", [("10000001", "10000001"), ("mon identifiant c'est 10 00 00 01", "10000001"), ("1234", None)])
async def test_the_customer_id_is_eight_digits(domain, dispatcher, conversation, said_id, kept):
    slots = await conversation.answer(dispatcher, "identification_customer_id", said_id)
    assert slots["identification_customer_id"] == kept


async def test_right_birth_date_and_sms_code_identify_the_customer(domain, dispatcher, client, services, conversation):
    customer = new_customer(services)
    slots = await conversation.give_birth_date(dispatcher, customer["customer_id"], "17/04/1992")
    assert slots["identification_birth_date"] == CHECKED
    assert responses(dispatcher) == ["utter_identification_code_sent"]
    assert "sent_to" not in dispatcher.messages[-1]  # not even the masked number: it would tell
    code = latest_code(services, customer["phone"])
    slots = await conversation.answer(
        dispatcher, "identification_code", f"le code c'est {code[:3]} {code[3:]}",
        slots={"identification_customer_id": customer["customer_id"], "identification_birth_date": CHECKED,
               "identification_check_id": slots["identification_check_id"]},
    )
    assert slots["authenticated_customer_id"] == customer["customer_id"]
    assert slots["customer_identified"] is True
    assert slots["identification_code"] == CHECKED  # the code itself is not kept
    assert responses(dispatcher)[-1] == "utter_identification_done"


@pytest.mark.parametrize("wrong", ["birth date", "unknown customer"])
async def test_every_answer_is_the_same_for_a_real_and_a_wrong_identity_up_to_the_lock(
    domain, client, services, wrong
):
    customer = new_customer(services)
    customer_id, birth_date = ((customer["customer_id"], "01/01/1970") if wrong == "birth date"
                               else (UNKNOWN_CUSTOMER, "17/04/1992"))
    told = {}
    for who, (cid, date) in {"real": (customer["customer_id"], "17/04/1992"), wrong: (customer_id, birth_date)}.items():
        conversation, dispatcher = Conversation(domain, f"test-source-{uuid.uuid4().hex}"), CollectingDispatcher()
        slots = await conversation.give_birth_date(dispatcher, cid, date)
        steps = [slots]
        for _ in range(3):
            steps.append(await conversation.give_code(dispatcher, slots["identification_check_id"], "000000"))
        told[who] = (said(dispatcher), [{k: v for k, v in s.items() if k != "identification_check_id"} for s in steps])
    assert told[wrong] == told["real"]
    assert [response for response, _ in told[wrong][0]] == [
        "utter_identification_code_sent", "utter_identification_wrong_code", "utter_identification_wrong_code",
        "utter_identification_locked"]


async def test_three_wrong_codes_lock_identification_and_point_to_the_phone(
    domain, dispatcher, client, services, conversation
):
    customer = new_customer(services)
    check_id = (await conversation.give_birth_date(dispatcher, customer["customer_id"], "17/04/1992"))[
        "identification_check_id"]
    code = latest_code(services, customer["phone"])
    for _ in range(3):
        slots = await conversation.give_code(dispatcher, check_id, wrong_code(code))
    assert responses(dispatcher)[-1] == "utter_identification_locked"
    assert slots["requested_slot"] is None  # the form stops
    # Still locked for the right code too.
    slots = await conversation.give_code(dispatcher, check_id, code)
    assert "authenticated_customer_id" not in slots


async def test_a_strangers_wrong_answers_leave_the_customer_free_to_identify(domain, dispatcher, client, services):
    customer = new_customer(services)
    stranger = Conversation(domain, source="test-source-stranger-" + uuid.uuid4().hex)
    for _ in range(3):
        check_id = (await stranger.give_birth_date(dispatcher, customer["customer_id"], "01/01/1970"))[
            "identification_check_id"]
        await stranger.give_code(dispatcher, check_id, "123456")
    assert responses(dispatcher)[-1] == "utter_identification_locked"

    own = Conversation(domain, source="test-source-own-" + uuid.uuid4().hex)
    check_id = (await own.give_birth_date(dispatcher, customer["customer_id"], "17/04/1992"))["identification_check_id"]
    slots = await own.give_code(dispatcher, check_id, latest_code(services, customer["phone"]))
    assert slots["authenticated_customer_id"] == customer["customer_id"]


async def test_without_an_sms_the_customer_gives_the_birth_date_again_instead_of_the_code(
    domain, dispatcher, client, services, conversation
):
    customer = new_customer(services)
    check_id = (await conversation.give_birth_date(dispatcher, customer["customer_id"], "18/04/1992"))[
        "identification_check_id"]
    assert count(services, "outbox", "recipient = ?", (customer["phone"],)) == 0
    slots = await conversation.give_code(dispatcher, check_id, "je n'ai rien reçu")
    assert responses(dispatcher)[-1] == "utter_identification_code_invalid"
    slots = await conversation.give_code(dispatcher, check_id, "17/04/1992")
    assert slots["identification_birth_date"] == CHECKED and slots["identification_code"] is None
    assert slots["identification_check_id"] != check_id
    assert responses(dispatcher)[-1] == "utter_identification_code_sent"
    slots = await conversation.give_code(dispatcher, slots["identification_check_id"],
                                         latest_code(services, customer["phone"]))
    assert slots["authenticated_customer_id"] == customer["customer_id"]


async def test_without_an_sms_the_customer_may_give_another_customer_id(domain, dispatcher, client, services, conversation):
    customer = new_customer(services)
    check_id = (await conversation.give_birth_date(dispatcher, "29999998", "17/04/1992"))["identification_check_id"]
    slots = await conversation.give_code(dispatcher, check_id, f"mon identifiant est {customer['customer_id']}")
    assert slots["identification_customer_id"] == customer["customer_id"]
    # With the birth date emptied, Rasa's form asks it next.
    assert slots["identification_birth_date"] is None and slots["identification_check_id"] is None


async def test_the_source_of_the_channel_is_passed_to_the_policy_service(domain, dispatcher, client, services):
    source = "test-source-" + uuid.uuid4().hex
    for _ in range(5):  # the wrong answers of a source lock it on the fifth
        conversation = Conversation(domain, source)
        check_id = (await conversation.give_birth_date(dispatcher, UNKNOWN_CUSTOMER, "01/01/1970"))[
            "identification_check_id"]
        await conversation.give_code(dispatcher, check_id, "123456")
    assert responses(dispatcher)[-1] == "utter_identification_locked"
    # Another conversation from that source is locked too; one from elsewhere is not.
    await Conversation(domain, source).give_birth_date(dispatcher, UNKNOWN_CUSTOMER, "01/01/1970")
    assert responses(dispatcher)[-1] == "utter_identification_locked"
    await Conversation(domain).give_birth_date(dispatcher, UNKNOWN_CUSTOMER, "01/01/1970")
    assert responses(dispatcher)[-1] == "utter_identification_code_sent"


async def test_when_the_policy_service_is_down_identification_stops_with_the_alternatives(
    domain, dispatcher, unreachable_services, conversation
):
    slots = await conversation.give_birth_date(dispatcher, "10000001", "12/03/1985")
    assert responses(dispatcher) == ["utter_identification_unavailable"]
    assert slots["requested_slot"] is None


async def test_the_request_is_remembered_and_resumed_once_identified(domain, dispatcher):
    tracker = make_tracker(domain, text="je veux déclarer un sinistre", intent="declare_claim")
    assert slot_sets(await ActionRememberRequest().run(dispatcher, tracker, domain)) == {"pending_request": "declare_claim"}

    done = make_tracker(domain, slots=identified("10000001", pending_request="declare_claim", identification_code=CHECKED))
    events = await ActionResumeRequest().run(dispatcher, done, domain)
    assert {"event": "followup", "name": "claim_form", "timestamp": None} in events
    assert slot_sets(events)["identification_code"] is None and slot_sets(events)["pending_request"] is None


async def test_once_identified_the_request_is_served_again_as_the_customer_asked_it(domain, dispatcher):
    asked = {"event": "user", "text": "combien je paie pour la clio",
             "parse_data": {"intent": {"name": "payment_info"}, "entities": [{"entity": "product", "value": "auto"}]}}
    done = make_tracker(domain, slots=identified("10000002", pending_request="payment_info", identification_code=CHECKED),
                        text="30/07/1978", intent="inform", events=[asked])
    events = await ActionResumeRequest().run(dispatcher, done, domain)
    # Served by the Rasa server as the customer's next message: the request's own rules apply.
    assert slot_sets(events)["next_request"] == [{"intent": "payment_info", "text": "combien je paie pour la clio",
                                                  "entities": [{"entity": "product", "value": "auto"}],
                                                  "announce": False}]
    assert not any(event["event"] == "followup" for event in events)


async def test_nothing_is_resumed_without_identification(domain, dispatcher):
    tracker = make_tracker(domain, slots={"pending_request": "request_attestation"})
    events = await ActionResumeRequest().run(dispatcher, tracker, domain)
    assert all(event["event"] == "slot" for event in events)
