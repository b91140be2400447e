"""Retention of the stored conversations: silent ones go, the current session stays whole."""
import time
from pathlib import Path

import pytest
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

from bot.conversations import ConversationStore, retention_days, tracker_store_url

ROOT = Path(__file__).resolve().parents[2]
DAY = 86400.0
NOW = time.time()


@pytest.fixture
def conversations(tracker_store):
    store = ConversationStore(str(tracker_store.engine.url))
    yield store
    store.close()


async def stored(tracker_store, sender, *events):
    tracker = await tracker_store.get_or_create_tracker(sender, append_action_listen=False)
    for event in events:
        tracker.update(event)
    await tracker_store.save(tracker)


def session(days_ago, customer_id=None, text="bonjour"):
    at = NOW - days_ago * DAY
    events = [ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at),
              ActionExecuted("action_listen", timestamp=at),
              UserUttered(text, {"name": "greet", "confidence": 1.0}, timestamp=at + 1)]
    if customer_id:
        events.append(SlotSet("authenticated_customer_id", customer_id, timestamp=at + 2))
    return events


async def test_a_conversation_silent_past_the_retention_period_is_deleted_whole(tracker_store, conversations):
    await stored(tracker_store, "old", *session(120, "10000001"))
    await stored(tracker_store, "recent", *session(2, "10000001"))

    assert conversations.purge(NOW - 90 * DAY) == {"conversations_deleted": 1, "events_deleted": 5}

    assert conversations.conversations_of("10000001") == ["recent"]
    assert await tracker_store.retrieve("old") is None


async def test_past_sessions_lose_their_old_events_and_the_current_session_stays_whole(tracker_store, conversations):
    await stored(tracker_store, "long", *session(200, text="première visite"), *session(95, text="deuxième"),
                 *session(3, "10000002", text="aujourd'hui"))

    result = conversations.purge(NOW - 90 * DAY)

    assert result == {"conversations_deleted": 0, "events_deleted": 8}
    texts = [event.get("text") for event in conversations.events(["long"])["long"] if event["event"] == "user"]
    assert texts == ["aujourd'hui"]
    tracker = await tracker_store.retrieve("long")
    assert tracker.get_slot("authenticated_customer_id") == "10000002"


async def test_a_session_begun_before_the_period_but_still_going_on_is_kept(tracker_store, conversations):
    await stored(tracker_store, "ongoing", *session(100, "10000003"), UserUttered(
        "encore là", {"name": "greet", "confidence": 1.0}, timestamp=NOW - DAY))

    assert conversations.purge(NOW - 90 * DAY) == {"conversations_deleted": 0, "events_deleted": 0}


async def test_a_customers_conversations_are_those_where_they_were_identified(tracker_store, conversations):
    await stored(tracker_store, "marie", *session(1, "10000001"))
    await stored(tracker_store, "karim", *session(1, "10000002"))
    await stored(tracker_store, "anonymous", *session(1))
    assert conversations.conversations_of("10000001") == ["marie"]
    assert conversations.delete(["marie"]) == 5
    assert conversations.conversations_of("10000001") == []
    assert conversations.conversations_of("10000002") == ["karim"]


def test_the_retention_period_comes_from_the_environment():
    assert retention_days({}) == 90
    assert retention_days({"CONVERSATION_RETENTION_DAYS": "30"}) == 30
    with pytest.raises(ValueError, match="CONVERSATION_RETENTION_DAYS"):
        retention_days({"CONVERSATION_RETENTION_DAYS": "trois mois"})


def test_the_conversation_database_is_the_one_endpoints_yml_configures(tmp_path, monkeypatch):
    # Rasa reads the whole file, the action server's token (from the environment) too.
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a-token")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text('tracker_store:\n  type: bot.tracker_store.MaskingSQLTrackerStore\n'
                         '  dialect: "sqlite"\n  db: "var/conversations.db"\n')
    assert tracker_store_url(endpoints) == "sqlite:///var/conversations.db"
    assert tracker_store_url(ROOT / "endpoints.yml") == "sqlite:///var/conversations.db"
