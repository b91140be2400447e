import datetime as dt

import pytest

from actions import handoff
from actions.handoff import ActionFileHandoff, ActionHandleMisunderstanding, ActionHandoff, in_office_hours
from core.clock import PARIS
from tests.actions.helpers import CONVERSATION, MARIE, identified, make_tracker, responses

TUESDAY_10_AM = dt.datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
TUESDAY_10_PM = dt.datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def the_insurers_hours(monkeypatch):
    """OFFICE_HOURS unset: the insurer's hours."""
    monkeypatch.delenv("OFFICE_HOURS", raising=False)


@pytest.mark.parametrize(
    "moment, open_",
    [
        (TUESDAY_10_AM, True),
        (TUESDAY_10_PM, False),
        (dt.datetime(2026, 11, 28, 11, 0, tzinfo=PARIS), True),  # Saturday morning
        (dt.datetime(2026, 11, 28, 14, 0, tzinfo=PARIS), False),  # Saturday afternoon
        (dt.datetime(2026, 11, 29, 11, 0, tzinfo=PARIS), False),  # Sunday
        (dt.datetime(2026, 11, 24, 8, 29, tzinfo=PARIS), False),
    ],
)
def test_office_hours(moment, open_):
    assert in_office_hours(moment) is open_


def user(text, intent, channel="rest"):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "input_channel": channel}


def conversation(domain, channel="rest", answered=()):
    """Marie asks about her claim, then for an adviser (and answers the read-back: `answered`)."""
    events = [
        user("mon dégât des eaux", "claim_status", channel),
        {"event": "bot", "text": "..."},
        user("je veux parler à quelqu'un", "request_human", channel),
        *answered,
    ]
    tracker = make_tracker(domain, slots=identified(MARIE), text="je veux parler à quelqu'un", intent="request_human")
    tracker.events = events
    return tracker


@pytest.fixture
def filed_handoffs(client, monkeypatch):
    filed = []
    original = client.file_handoff

    async def spy(*args, **kwargs):
        filed.append(kwargs)
        return await original(*args, **kwargs)

    monkeypatch.setattr(client, "file_handoff", spy)
    return filed


async def test_in_office_hours_the_summary_is_read_back_and_nothing_filed_before_the_yes(
        domain, dispatcher, filed_handoffs, monkeypatch):
    monkeypatch.setattr(handoff, "now_in_paris", lambda: TUESDAY_10_AM)
    await ActionHandoff().run(dispatcher, conversation(domain), domain)
    assert responses(dispatcher) == ["utter_confirm_handoff"]
    assert "mon dégât des eaux" in dispatcher.messages[0]["summary"]
    assert filed_handoffs == []


async def test_the_yes_to_the_read_back_files_the_handoff_with_that_summary(
        domain, dispatcher, filed_handoffs, monkeypatch):
    monkeypatch.setattr(handoff, "now_in_paris", lambda: TUESDAY_10_AM)
    read_back = {"event": "bot", "text": "Je l'envoie ?", "metadata": {"utter_action": "utter_confirm_handoff"}}
    tracker = conversation(domain, answered=[read_back, user("oui", "affirm")])
    await ActionFileHandoff().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_handoff_filed"]
    assert dispatcher.messages[0]["reference"].startswith("TRF-")
    [filed] = filed_handoffs
    assert "mon dégât des eaux" in filed["summary"] and "- oui" not in filed["summary"]
    # The conversation an adviser may read and answer in the console.
    assert filed["conversation_id"] == CONVERSATION


async def test_a_yes_that_answers_no_read_back_files_nothing(domain, dispatcher, filed_handoffs, monkeypatch):
    monkeypatch.setattr(handoff, "now_in_paris", lambda: TUESDAY_10_AM)
    other = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_handoff_closed"}}
    await ActionFileHandoff().run(dispatcher, conversation(domain, answered=[other, user("oui", "affirm")]), domain)
    assert responses(dispatcher) == ["utter_anything_else"] and filed_handoffs == []


async def test_on_the_phone_the_caller_is_put_through_at_once(domain, dispatcher, filed_handoffs, monkeypatch):
    monkeypatch.setattr(handoff, "now_in_paris", lambda: TUESDAY_10_AM)
    await ActionHandoff().run(dispatcher, conversation(domain, channel="ivr"), domain)
    assert responses(dispatcher) == ["utter_handoff_filed"]
    # The telephone line's variant transfers the call with the reference; the adviser
    # finds the summary by it.
    [filed] = filed_handoffs
    assert "mon dégât des eaux" in filed["summary"] and filed["conversation_id"] == CONVERSATION
    assert dispatcher.messages[0]["reference"].startswith("TRF-")


async def test_outside_office_hours_the_hours_and_the_written_channels_are_given(
        domain, dispatcher, filed_handoffs, monkeypatch):
    monkeypatch.setattr(handoff, "now_in_paris", lambda: TUESDAY_10_PM)
    await ActionHandoff().run(dispatcher, conversation(domain), domain)
    assert responses(dispatcher) == ["utter_handoff_closed"] and filed_handoffs == []
    assert dispatcher.messages[0]["opening_hours"] == (
        "du lundi au vendredi de 8 h 30 à 18 h et le samedi de 9 h à 12 h")
    # The phone line is closed too: no « immediate answer » on it.
    for variant in domain["responses"]["utter_handoff_closed"]:
        assert "immédiate" not in variant["text"] and "48 à 72 h" in variant["text"]


async def test_when_the_service_is_down_the_channels_are_given(domain, dispatcher, unreachable_services, monkeypatch):
    monkeypatch.setattr(handoff, "now_in_paris", lambda: TUESDAY_10_AM)
    await ActionHandoff().run(dispatcher, conversation(domain, channel="ivr"), domain)
    assert responses(dispatcher) == ["utter_human_contacts"]


def not_understood(text):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "nlu_fallback"}}}


async def test_a_first_misunderstanding_without_any_idea_asks_to_rephrase_a_second_offers_a_human(domain, dispatcher):
    tracker = make_tracker(domain)
    tracker.events = [not_understood("blablabla")]
    await ActionHandleMisunderstanding().run(dispatcher, tracker, domain)
    tracker.events = [not_understood("blablabla"), {"event": "bot", "text": "?"}, not_understood("xyz")]
    await ActionHandleMisunderstanding().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_default", "utter_offer_human"]


async def test_a_first_misunderstanding_suggests_the_requests_the_nlu_hesitated_between(domain, dispatcher):
    tracker = make_tracker(domain, text="mon truc de voiture papier")
    tracker.latest_message = {
        "text": "mon truc de voiture papier",
        "intent": {"name": "nlu_fallback", "confidence": 0.5},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "request_attestation", "confidence": 0.41},
            {"name": "inform", "confidence": 0.3},
            {"name": "contract_info", "confidence": 0.2},
            {"name": "payment_info", "confidence": 0.1},
        ],
    }
    tracker.events = [{"event": "user", "text": "mon truc de voiture papier", "parse_data": tracker.latest_message}]
    await ActionHandleMisunderstanding().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    assert [(button["title"], button["payload"]) for button in message["buttons"]] == [
        ("Une attestation", "/request_attestation"),
        ("Mes contrats", "/contract_info"),
        ("Autre chose", "/deny"),
    ]


def test_a_long_message_spread_over_many_requests_still_gets_the_two_best_as_buttons():
    story = {
        "intent": {"name": "nlu_fallback", "confidence": 0.5},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "express_frustration", "confidence": 0.31},
            {"name": "claim_status", "confidence": 0.27},
            {"name": "indemnification_info", "confidence": 0.06},
            {"name": "complaint", "confidence": 0.05},
        ],
    }
    assert handoff.likely_requests(story) == ["claim_status", "indemnification_info"]


def test_no_button_when_even_the_best_request_is_a_wild_guess():
    gibberish = {
        "intent": {"name": "nlu_fallback", "confidence": 0.5},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "greet", "confidence": 0.4},
            {"name": "contract_info", "confidence": 0.1},
            {"name": "payment_info", "confidence": 0.09},
        ],
    }
    assert handoff.likely_requests(gibberish) == []
    assert handoff.likely_requests({}) == []
