import pytest
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from bot.event_types import _rasa_resolve_by_type, index_event_types


@pytest.fixture(autouse=True)
def indexed():
    index_event_types()
    yield
    Event.resolve_by_type = staticmethod(_rasa_resolve_by_type)


def test_every_event_type_resolves_to_the_class_rasa_finds():
    for cls in all_subclasses(Event):
        assert Event.resolve_by_type(cls.type_name) is _rasa_resolve_by_type(cls.type_name)


def test_stored_events_read_back_as_the_same_events():
    events = [UserUttered("bonjour", {"name": "greet", "confidence": 0.9}), SlotSet("claim_type", "vol"),
              ActionExecuted("action_listen")]
    assert [Event.from_parameters(event.as_dict()) for event in events] == events


def test_an_unknown_event_type_is_refused_as_rasa_refuses_it():
    with pytest.raises(ValueError, match="Unknown event name 'nope'"):
        Event.resolve_by_type("nope")
    assert Event.resolve_by_type("nope", SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None
