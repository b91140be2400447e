"""Stored events turned back into Rasa events without searching every event class.

Rasa 3.6 finds the class of an event by walking the whole tree of Event subclasses
for each event it reads: every event of the conversation at each turn, and every
event the action server returns. That walk was 4 % of the Rasa server's
CPU time at saturation (`make bench` under a profiler). Here the classes are indexed
by type name once; a name not in the index (a class defined later) is looked up
Rasa's way and indexed then.
"""
from typing import Dict, Optional, Text, Type

from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

_rasa_resolve_by_type = Event.resolve_by_type
_by_type_name: Dict[Text, Type[Event]] = {}


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """Event.resolve_by_type, from the index."""
    found = _by_type_name.get(type_name)
    if found is None:
        _by_type_name.update({cls.type_name: cls for cls in reversed(all_subclasses(Event))})
        found = _by_type_name.get(type_name)
    return found if found is not None else _rasa_resolve_by_type(type_name, default)


def index_event_types() -> None:
    """Installs the index (running it again changes nothing)."""
    Event.resolve_by_type = staticmethod(resolve_by_type)
