import datetime as dt

import pytest

from actions import handoff
from actions.common.clock import PARIS
from actions.handoff import ActionHandleMisunderstanding, ActionHandoff, in_office_hours
from tests.actions.helpers import MARIE, identified, make_tracker, responses

TUESDAY_10_AM = dt.datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
TUESDAY_10_PM = dt.datetime(2026, 11, 24, 22, 0, tzinfo=PARIS)


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


def conversation(domain):
    events = [
        {"event": "user", "text": "mon dégât des eaux", "parse_data": {"intent": {"name": "claim_status"}}},
        {"event": "bot", "text": "..."},
        {"event": "user", "text": "je veux parler à quelqu'un", "parse_data": {"intent": {"name": "request_human"}}},
    ]
    tracker = make_tracker(domain, slots=identified(MARIE), text="je veux parler à quelqu'un", intent="request_human")
    tracker.events = events
    return tracker


async def test_in_office_hours_a_handoff_is_filed_with_a_summary(domain, dispatcher, client, monkeypatch):
    monkeypatch.setattr(handoff, "now_in_paris", lambda: TUESDAY_10_AM)
    filed = {}
    original = client.file_handoff

    async def spy(*args, **kwargs):
        filed.update(kwargs)
        return await original(*args, **kwargs)

    monkeypatch.setattr(client, "file_handoff", spy)
    await ActionHandoff().run(dispatcher, conversation(domain), domain)
    assert responses(dispatcher) == ["utter_handoff_filed"]
    assert dispatcher.messages[0]["reference"].startswith("TRF-")
    assert "mon dégât des eaux" in filed["summary"]
    # The telephone line's variant transfers the call with this summary for the adviser.
    assert dispatcher.messages[0]["summary"] == filed["summary"]


async def test_outside_office_hours_the_channels_are_given(domain, dispatcher, client, monkeypatch):
    monkeypatch.setattr(handoff, "now_in_paris", lambda: TUESDAY_10_PM)
    await ActionHandoff().run(dispatcher, conversation(domain), domain)
    assert responses(dispatcher) == ["utter_handoff_closed", "utter_human_contacts"]


async def test_when_the_service_is_down_the_channels_are_given(domain, dispatcher, unreachable_services, monkeypatch):
    monkeypatch.setattr(handoff, "now_in_paris", lambda: TUESDAY_10_AM)
    await ActionHandoff().run(dispatcher, conversation(domain), domain)
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
