"""The Rasa server's adviser routes, piece by piece (bot/advisers.py): the console's token,
what the console reads of a conversation, which customers can be written to, and a paused
conversation left as it was. The routes themselves, against the real stack:
tests/dialogue/test_adviser_take_over.py."""

import time
from types import SimpleNamespace

import pytest
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import SessionConfig
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import two_requests
from bot.advisers import (
    Refused,
    check_console_token,
    has_session_expired,
    messages_after,
    output_channel_of,
    outside_window,
    run_action_extract_slots,
)
from connectors import recipients as recipients_module
from connectors.recipients import Recipients

TOKEN = "console-token-0123456789"
HOUR = 3600.0


@pytest.mark.parametrize("authorization", [None, "", TOKEN, f"Bearer {TOKEN}x", f"bearer {TOKEN}",
                                           f"Bearer  {TOKEN}", f"Basic {TOKEN}", "Bearer "])
def test_only_the_console_token_opens_the_routes(authorization):
    with pytest.raises(Refused) as refused:
        check_console_token(authorization, TOKEN)
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")


def test_the_console_token_itself_opens_them():
    check_console_token(f"Bearer {TOKEN}", TOKEN)


@pytest.mark.parametrize("authorization", [None, "", "Bearer ", "Bearer None"])
def test_a_server_without_console_token_opens_no_route(authorization):
    with pytest.raises(Refused):
        check_console_token(authorization, "")


def at(event, timestamp):
    event.timestamp = timestamp
    return event


def test_the_console_reads_who_said_what_and_when():
    events = [
        at(ActionExecuted("action_session_start"), 1.0),
        at(UserUttered("je veux un conseiller"), 1_780_000_000.0),
        at(BotUttered("Je transmets votre demande.", metadata={"utter_action": "utter_handoff_filed"}), 1_780_000_001.0),
        at(BotUttered("Camille Martin a rejoint la conversation.",
                      metadata={"adviser": "Camille Martin", "handoff": "TRF-2026-000001"}), 1_780_000_100.5),
        at(BotUttered(None, {"custom": {"ivr": "transfer"}}), 1_780_000_101.0),  # nothing to read
        at(UserUttered("merci"), 1_780_000_200.0),
    ]
    assert messages_after(events, 0) == [
        {"from": "customer", "text": "je veux un conseiller", "at": "2026-05-28T22:26:40+02:00",
         "timestamp": 1_780_000_000.0},
        {"from": "assistant", "text": "Je transmets votre demande.", "at": "2026-05-28T22:26:41+02:00",
         "timestamp": 1_780_000_001.0},
        {"from": "adviser", "text": "Camille Martin a rejoint la conversation.", "at": "2026-05-28T22:28:20+02:00",
         "timestamp": 1_780_000_100.5},
        {"from": "customer", "text": "merci", "at": "2026-05-28T22:30:00+02:00", "timestamp": 1_780_000_200.0},
    ]
    assert [m["text"] for m in messages_after(events, 1_780_000_100.5)] == ["merci"]
    assert messages_after(events, 1_780_000_200.0) == []


NOW = 1_780_000_000.0


@pytest.mark.parametrize("channel, last_message_hours_ago, outside", [
    ("whatsapp", 23.9, False),
    ("whatsapp", 24.1, True),
    ("messenger", 1, False),
    ("messenger", 30, True),
    ("whatsapp", None, True),  # the customer never wrote
    ("telegram", 100, False),  # no window on Telegram
    ("widget", 100, False),
])
def test_whatsapp_and_messenger_take_messages_24_hours_after_the_customer_s_last_one(
        channel, last_message_hours_ago, outside):
    events = [at(UserUttered("bonjour", input_channel=channel), NOW - 48 * HOUR)]
    if last_message_hours_ago is None:
        events = [at(BotUttered("Bonjour"), NOW - HOUR)]
    else:
        events.append(at(UserUttered("merci", input_channel=channel), NOW - last_message_hours_ago * HOUR))
        events.append(at(BotUttered("De rien"), NOW - 0.1 * HOUR))  # the assistant's words open nothing
    assert outside_window(events, channel, NOW) is outside


class Channel:
    def __init__(self, name, output):
        self._name, self.output = name, output

    def name(self):
        return self._name

    def get_output_channel(self):
        return self.output

    def output_to(self, address):
        return f"{self.output} to {address}"


def tracker_on(channel, hours_ago=0.0):
    tracker = DialogueStateTracker(f"{channel}:conversation", [])
    tracker.update(at(UserUttered("bonjour", input_channel=channel), time.time() - hours_ago * HOUR))
    return tracker


APP = SimpleNamespace(ctx=SimpleNamespace(input_channels=[
    Channel("rest", None), Channel("widget", "the widget's output"), Channel("ivr", "calls"),
    Channel("whatsapp", "graph api"), Channel("telegram", "bot api"), Channel("messenger", "graph api"),
]))


@pytest.fixture(autouse=True)
def no_address_remembered(monkeypatch):
    """Each test starts with no messaging address remembered (connectors.recipients)."""
    monkeypatch.setattr(recipients_module, "_recipients", Recipients(shared=None))


async def test_the_adviser_writes_on_the_widget_through_its_output_channel():
    assert await output_channel_of(APP, tracker_on("widget")) == "the widget's output"


@pytest.mark.parametrize("channel, api", [("whatsapp", "graph api"), ("telegram", "bot api"),
                                          ("messenger", "graph api")])
async def test_the_adviser_writes_on_a_messaging_app_to_the_address_of_the_customers_last_message(channel, api):
    tracker = tracker_on(channel)
    await recipients_module.recipients().remember(tracker.sender_id, channel, "33612345678")
    assert await output_channel_of(APP, tracker) == f"{api} to 33612345678"


@pytest.mark.parametrize("channel, hours_ago, code", [
    ("rest", 0, "channel_unreachable"),  # nobody waits on a REST request for later messages
    ("ivr", 0, "channel_unreachable"),  # the phone: a transfer to the advisers' line instead
    ("whatsapp", 1, "channel_unreachable"),  # within the window, but no address kept for it
    ("telegram", 1, "channel_unreachable"),  # no address kept for this chat
    ("whatsapp", 25, "outside_window"),
    ("messenger", 25, "outside_window"),
    ("audiocodes", 0, "channel_unreachable"),  # a channel this server does not have
])
async def test_other_channels_cannot_be_written_to_later(channel, hours_ago, code):
    with pytest.raises(Refused) as refused:
        await output_channel_of(APP, tracker_on(channel, hours_ago))
    assert (refused.value.status, refused.value.code) == (409, code)


def paused_tracker():
    tracker = DialogueStateTracker("widget:" + "a" * 32, [])
    tracker.update(ConversationPaused())
    carried = {"intent": "claim_status", "confidence": 0.9, "entities": [], "text": "où en est mon sinistre"}
    parse_data = {"intent": {"name": "request_attestation", "confidence": 0.9}, "entities": [],
                  two_requests.SECOND_REQUEST: carried}
    tracker.update(UserUttered("une attestation, et aussi où en est mon sinistre", parse_data["intent"], [],
                               parse_data, input_channel="widget"))
    return tracker


async def test_a_paused_conversation_is_left_as_it_was():
    """No slot filled from the customer's words, no action, no request set aside for later."""
    processor = SimpleNamespace(_should_handle_message=MessageProcessor._should_handle_message)
    tracker = paused_tracker()
    before = list(tracker.events)
    assert await run_action_extract_slots(processor, None, tracker) is tracker
    await two_requests.run_prediction_loop(processor, None, tracker)
    assert list(tracker.events) == before
    assert tracker.is_paused()


def conversation(*timed_events):
    tracker = DialogueStateTracker("widget:" + "b" * 32, [])
    for hours_ago, event in timed_events:
        tracker.update(at(event, time.time() - hours_ago * HOUR))
    return tracker


ADVISER_SAID = {"adviser": "Camille Martin", "handoff": "TRF-2026-000001"}


@pytest.mark.parametrize("timed_events, expired", [
    # Taken two hours after the customer's last message: still the adviser's.
    ([(3, UserUttered("un conseiller svp")), (1, ConversationPaused())], False),
    # The adviser wrote an hour ago, the customer said nothing since.
    ([(9, UserUttered("bonjour")), (8.5, ConversationPaused()), (1, BotUttered("Je regarde.", metadata=ADVISER_SAID))],
     False),
    # Left paused, the adviser silent for more than 8 hours: the assistant may answer again.
    ([(12, UserUttered("bonjour")), (10, ConversationPaused())], True),
    # Not paused: Rasa's hour after the customer's last message.
    ([(3, UserUttered("bonjour")), (2, ConversationPaused()), (1.5, ConversationResumed())], True),
    ([(0.5, UserUttered("bonjour"))], False),
])
def test_a_conversation_taken_over_keeps_its_session_while_the_adviser_works_on_it(timed_events, expired):
    processor = SimpleNamespace(domain=SimpleNamespace(session_config=SessionConfig(60, True)))
    assert has_session_expired(processor, conversation(*timed_events)) is expired
