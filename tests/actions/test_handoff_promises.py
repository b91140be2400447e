"""What the hand-off promises in office hours, against the real test services: a live answer
only where an adviser is at the console and can write in this conversation, a call-back on
the details on file to an identified customer, and to an anonymous visitor a call-back only
once they said where (a French phone number or an e-mail, asked by handoff_contact_form)."""

import json
from typing import Any, Dict, List

import pytest
import requests
from rasa.shared.core import events as rasa_events
from rasa_sdk.events import ActiveLoop, SlotSet

from actions import handoff
from actions.handoff import (
    ActionCancelHandoffContact,
    ActionFileHandoff,
    ActionFileHandoffCallback,
    ActionHandoff,
    ValidateHandoffContactForm,
)
from bot.tracker_store import masked_rows
from tests.actions.helpers import CONVERSATION, MARIE, identified, make_tracker, responses, slot_event, slot_sets
from tests.actions.test_handoff import TUESDAY_10_AM, user
from tests.conftest import TEST_ADVISER_CONSOLE_TOKEN, TEST_ADVISER_DEMO_PASSWORD
from tests.reference_services.helpers import execute, query

READ_BACK = {"event": "bot", "text": "Je l'envoie ?", "metadata": {"utter_action": "utter_confirm_handoff"}}


def log_in_adviser(services: Any) -> str:
    """The demo adviser logs in to the console (their session counts as an adviser at work)."""
    answer = requests.post(
        f"{services.base_url}/v1/adviser-sessions", json={"login": "conseiller", "password": TEST_ADVISER_DEMO_PASSWORD},
        headers={"Authorization": f"Bearer {TEST_ADVISER_CONSOLE_TOKEN}"}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["session"]


def no_adviser_at_console(services: Any) -> None:
    """Every adviser's session gone (other tests' included): nobody at the console."""
    execute(services, "DELETE FROM adviser_sessions")


@pytest.fixture(autouse=True)
def office_hours(monkeypatch):
    monkeypatch.delenv("OFFICE_HOURS", raising=False)
    monkeypatch.setattr(handoff, "now_in_paris", lambda: TUESDAY_10_AM)


@pytest.fixture
def nobody_at_the_console(services):
    no_adviser_at_console(services)


@pytest.fixture
def adviser_at_the_console(services):
    no_adviser_at_console(services)
    yield log_in_adviser(services)
    no_adviser_at_console(services)


@pytest.fixture
def filed_handoffs(client, monkeypatch) -> List[Dict[str, Any]]:
    filed: List[Dict[str, Any]] = []
    original = client.file_handoff

    async def spy(*args, **kwargs):
        filed.append(kwargs)
        return await original(*args, **kwargs)

    monkeypatch.setattr(client, "file_handoff", spy)
    return filed


def asked_for_an_adviser(domain, channel="widget", customer=None, answered=(), active_loop=None):
    """A visitor (or `customer`) asks about their claim, then for an adviser; `answered`:
    what followed (the read-back, their « oui »...)."""
    events = [
        user("mon dégât des eaux", "claim_status", channel),
        {"event": "bot", "text": "..."},
        user("je veux un humain", "request_human", channel),
        *answered,
    ]
    tracker = make_tracker(domain, slots=identified(customer) if customer else {}, text="je veux un humain",
                           intent="request_human", active_loop=active_loop)
    tracker.events = events
    return tracker


def said_yes(domain, channel="widget", customer=None):
    return asked_for_an_adviser(domain, channel, customer, answered=[READ_BACK, user("oui", "affirm", channel)])


async def test_an_adviser_at_the_console_answers_a_widget_visitor_here_in_a_few_moments(
        domain, dispatcher, filed_handoffs, adviser_at_the_console):
    events = await ActionFileHandoff().run(dispatcher, said_yes(domain), domain)
    assert responses(dispatcher) == ["utter_handoff_live"]
    assert dispatcher.messages[0]["reference"].startswith("TRF-")
    [filed] = filed_handoffs
    assert filed["conversation_id"] == CONVERSATION and filed["contact"] is None
    assert "mon dégât des eaux" in filed["summary"] and "- oui" not in filed["summary"]
    assert slot_sets(events) == {"handoff_contact_needed": None}


@pytest.mark.parametrize("channel", ["whatsapp", "telegram", "messenger"])
async def test_on_a_messaging_app_too_the_adviser_answers_in_the_conversation(
        domain, dispatcher, filed_handoffs, adviser_at_the_console, channel):
    await ActionFileHandoff().run(dispatcher, said_yes(domain, channel), domain)
    assert responses(dispatcher) == ["utter_handoff_live"] and len(filed_handoffs) == 1


async def test_an_identified_customer_with_an_adviser_at_the_console_is_answered_live_too(
        domain, dispatcher, filed_handoffs, adviser_at_the_console):
    await ActionFileHandoff().run(dispatcher, said_yes(domain, customer=MARIE), domain)
    assert responses(dispatcher) == ["utter_handoff_live"]
    [filed] = filed_handoffs
    assert filed["conversation_id"] == CONVERSATION


async def test_where_no_adviser_can_write_later_no_live_answer_is_promised(
        domain, dispatcher, filed_handoffs, adviser_at_the_console):
    # The REST channel answers only the request it is sent: the visitor is asked where
    # to be called back, even with an adviser at the console.
    events = await ActionFileHandoff().run(dispatcher, said_yes(domain, "rest"), domain)
    assert responses(dispatcher) == ["utter_handoff_no_adviser_now"] and filed_handoffs == []
    assert slot_sets(events) == {"handoff_contact": None, "handoff_contact_needed": True}


async def test_nobody_at_the_console_an_identified_customer_is_called_back_on_the_details_on_file(
        domain, dispatcher, filed_handoffs, nobody_at_the_console):
    await ActionFileHandoff().run(dispatcher, said_yes(domain, customer=MARIE), domain)
    assert responses(dispatcher) == ["utter_handoff_filed"]
    [filed] = filed_handoffs
    assert filed["conversation_id"] == CONVERSATION and filed["contact"] is None


async def test_nobody_at_the_console_an_anonymous_visitor_is_asked_where_to_be_called_back_before_any_promise(
        domain, dispatcher, filed_handoffs, nobody_at_the_console):
    events = await ActionFileHandoff().run(dispatcher, said_yes(domain), domain)
    assert responses(dispatcher) == ["utter_handoff_no_adviser_now"]
    assert filed_handoffs == []
    # The rules start handoff_contact_form on this slot.
    assert slot_sets(events) == {"handoff_contact": None, "handoff_contact_needed": True}
    assert "dans la journée" in domain["responses"]["utter_handoff_no_adviser_now"][0]["text"]


async def test_a_policy_service_that_cannot_say_counts_as_nobody_at_the_console(
        domain, dispatcher, unreachable_services):
    events = await ActionFileHandoff().run(dispatcher, said_yes(domain), domain)
    assert responses(dispatcher) == ["utter_handoff_no_adviser_now"]
    assert slot_sets(events)["handoff_contact_needed"] is True


async def test_on_the_phone_the_call_is_transferred_whoever_is_at_the_console(
        domain, dispatcher, filed_handoffs, nobody_at_the_console):
    await ActionHandoff().run(dispatcher, asked_for_an_adviser(domain, "ivr"), domain)
    assert responses(dispatcher) == ["utter_handoff_filed"]
    [filed] = filed_handoffs
    assert filed["conversation_id"] == CONVERSATION and filed["channel"] == "ivr"


async def test_during_a_procedure_an_anonymous_visitor_nobody_can_answer_gets_the_advisers_line_and_nothing_promised(
        domain, dispatcher, filed_handoffs, nobody_at_the_console):
    tracker = asked_for_an_adviser(domain, active_loop="identification_form")
    assert await ActionHandoff().run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_human_contacts"] and filed_handoffs == []


async def test_during_a_procedure_an_adviser_at_the_console_answers_at_once(
        domain, dispatcher, filed_handoffs, adviser_at_the_console):
    tracker = asked_for_an_adviser(domain, active_loop="identification_form")
    await ActionHandoff().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_handoff_live"] and len(filed_handoffs) == 1


def contact_answer(domain, text):
    """The form's question answered with `text` (from_text fills the slot, then validation)."""
    return make_tracker(domain, slots={"requested_slot": "handoff_contact", "handoff_contact": text}, text=text,
                        intent="inform", active_loop="handoff_contact_form",
                        events=[slot_event("handoff_contact", text)])


TAKEN = [
    ("06 12 34 56 78", "+33612345678"),
    ("0612345678", "+33612345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("c'est le 06.12.34.56.78 merci", "+33612345678"),
    ("0033 6 12 34 56 78", "+33612345678"),
    ("mon fixe 01 23 45 67 89", "+33123456789"),
    ("jean.dupont@exemple.fr", "jean.dupont@exemple.fr"),
    ("écrivez moi à Jean.Dupont+oyat@mail.exemple.fr svp", "Jean.Dupont+oyat@mail.exemple.fr"),
]


@pytest.mark.parametrize("text, contact", TAKEN)
async def test_a_french_phone_number_or_an_e_mail_written_their_own_way_is_taken(domain, dispatcher, text, contact):
    events = await ValidateHandoffContactForm().run(dispatcher, contact_answer(domain, text), domain)
    assert slot_sets(events)["handoff_contact"] == contact and dispatcher.messages == []


@pytest.mark.parametrize("text", [
    "06 12 34 56",  # a digit pair missing
    "06 12 34 56 78 9",
    "+44 20 7946 0958",  # not French
    "jean.dupont@exemple",
    "jean.dupont.exemple.fr",
    "je veux un humain",
    "",
])
async def test_anything_else_gets_a_clear_re_ask(domain, dispatcher, text):
    events = await ValidateHandoffContactForm().run(dispatcher, contact_answer(domain, text), domain)
    assert slot_sets(events)["handoff_contact"] is None
    assert responses(dispatcher) == ["utter_handoff_contact_invalid"]
    said = domain["responses"]["utter_handoff_contact_invalid"][0]["text"]
    assert "06 12 34 56 78" in said and "e-mail" in said and "non" in said


def contact_given(domain, text, contact):
    """The read-back said yes to, the question asked, the answer validated: the form is done."""
    return make_tracker(
        domain, slots={"handoff_contact": contact, "handoff_contact_needed": True}, text=text)


async def filed_with_contact(domain, dispatcher, text, contact, channel="widget"):
    tracker = contact_given(domain, text, contact)
    tracker.events = [
        user("mon dégât des eaux", "claim_status", channel),
        user("je veux un humain", "request_human", channel),
        READ_BACK,
        user("oui", "affirm", channel),
        {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_ask_handoff_contact"}},
        user(text, "inform", channel),
    ]
    return await ActionFileHandoffCallback().run(dispatcher, tracker, domain)


async def test_the_number_given_the_hand_off_is_filed_with_it_and_the_call_back_promised_on_it_masked(
        domain, dispatcher, filed_handoffs, services):
    events = await filed_with_contact(domain, dispatcher, "06 12 34 56 78", "+33612345678")
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_callback_phone"
    assert message["contact"] == "06 •• •• •• 78" and message["reference"].startswith("TRF-")
    [filed] = filed_handoffs
    assert filed["contact"] == "+33612345678" and filed["conversation_id"] == CONVERSATION
    # The summary read back: neither the « oui » nor the number.
    assert "mon dégât des eaux" in filed["summary"] and "- oui" not in filed["summary"]
    assert "56 78" not in filed["summary"]
    assert query(services, "SELECT contact, conversation_id FROM handoffs WHERE reference = ?",
                 [message["reference"]]) == [("+33612345678", CONVERSATION)]
    # Nothing of the number is kept in the conversation for a later hand-off.
    assert slot_sets(events) == {"handoff_contact": None, "handoff_contact_needed": None}


async def test_the_e_mail_given_the_call_back_is_promised_by_e_mail(domain, dispatcher, filed_handoffs):
    await filed_with_contact(domain, dispatcher, "jean.dupont@exemple.fr", "jean.dupont@exemple.fr")
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_callback_email" and message["contact"] == "j•••@exemple.fr"
    assert filed_handoffs[0]["contact"] == "jean.dupont@exemple.fr"


async def test_the_service_down_when_the_number_is_given_the_advisers_line_is_given_and_nothing_promised(
        domain, dispatcher, unreachable_services):
    events = await filed_with_contact(domain, dispatcher, "0612345678", "+33612345678")
    assert responses(dispatcher) == ["utter_human_contacts"]
    assert slot_sets(events) == {"handoff_contact": None, "handoff_contact_needed": None}


async def test_no_call_back_after_all_nothing_is_sent_and_the_form_stops(domain, dispatcher, filed_handoffs):
    tracker = make_tracker(domain, slots={"requested_slot": "handoff_contact", "handoff_contact_needed": True},
                           text="non laissez tomber", intent="cancel", active_loop="handoff_contact_form")
    events = await ActionCancelHandoffContact().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_handoff_not_sent"] and filed_handoffs == []
    assert ActiveLoop(None) in events
    assert SlotSet("handoff_contact_needed", None) in events and SlotSet("requested_slot", None) in events


@pytest.mark.parametrize("text, contact", [*TAKEN, ("jean.dupont@exemple", None), ("06 12 34 56", None)])
def test_every_answer_to_the_question_right_or_wrong_is_stored_masked_whole_and_so_is_the_slot(text, contact):
    events = [rasa_events.SlotSet("requested_slot", "handoff_contact"),
              rasa_events.UserUttered(text, parse_data={"text": text}),
              rasa_events.SlotSet("handoff_contact", contact), rasa_events.SlotSet("requested_slot", None)]
    answer, slot = [json.loads(row["data"]) for row in masked_rows("s", events, 0, set())][1:3]
    assert answer["text"] == answer["parse_data"]["text"] == "[coordonnées]"
    assert slot["value"] == ("[coordonnées]" if contact else None)
