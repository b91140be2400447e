"""Conversations stored without personal data (spec §5).

The turn in progress works on the tracker in memory, unmasked; what is saved, and
so what the next turn reloads, is masked (core.masking). Hence:

- every text (the customer's and the assistant's), parse data, metadata and slot
  value is saved through `mask_personal_data`, and secret metadata keys
  (`auth_token`) are hidden whole;
- a message answering a sensitive question (date of birth, SMS code, where to call
  an anonymous visitor back after a hand-off) is saved masked whole, and so are
  those slots' values: the actions check them in the turn they are given and keep
  nothing of them;
- in the identification (its form active, and the customer's message right after
  it stops: a code typed once it locked), a date can only be a birth date and six
  digits a code, whatever was asked: those messages, and the customer id slot
  that mirrors them, are masked as strictly as log lines (every date, every
  six-digit number), a birth date given at the customer id question included;
- the claim being declared must survive the turns of its form: those slots
  (HELD_SLOTS) are saved as they are, and masked in the stored events once the
  slot is emptied (claim filed, queued or cancelled); so is the customer's identity
  assertion (IDENTITY_ASSERTION), which every call about the customer needs, until
  the identity is dropped.

An event broker, if one were configured, would receive the events unmasked, as
Rasa streams them before saving: configure none, or mask there as well.
"""
import asyncio
import json
import logging
from typing import Any, Dict, Iterable, List, Optional, Set, Text

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from core.db import run_sqlite_pragmas
from core.masking import MARKERS, mask_for_logs, mask_value
from core.slots import (
    CLAIM_FORM_SLOTS,
    HANDOFF_CONTACT,
    IDENTIFICATION_BIRTH_DATE,
    IDENTIFICATION_CODE,
    IDENTIFICATION_CUSTOMER_ID,
    IDENTITY_ASSERTION,
    QUOTE_CONTACT,
    QUOTE_EMAIL,
)

logger = logging.getLogger(__name__)

REQUESTED_SLOT = "requested_slot"
# Slots whose values are personal data with no recognisable shape: masked whole,
# and so is the message that answers them (a call-back number or address mistyped,
# « jean.dupont@exemple », is no e-mail to mask, and still someone's).
SENSITIVE_SLOTS: Dict[Text, Text] = {
    IDENTIFICATION_BIRTH_DATE: MARKERS["birth_date"],
    IDENTIFICATION_CODE: MARKERS["code"],
    HANDOFF_CONTACT: MARKERS["contact"],
    QUOTE_CONTACT: MARKERS["contact"],
    QUOTE_EMAIL: MARKERS["email"],
}
IDENTIFICATION_FORM = "identification_form"
# Slots that hold the customer's words in the identification: masked strictly, like its messages.
IDENTIFICATION_TEXT_SLOTS = frozenset({IDENTIFICATION_CUSTOMER_ID})
# Slots needed over several turns: kept as given while they are set.
HELD_SLOTS = frozenset(CLAIM_FORM_SLOTS) | {IDENTITY_ASSERTION}
# Set on a tracker read from the store: how many of its events are stored already, so
# that saving the turn needs no query to count them (the lock store keeps any other
# server from adding events to the conversation during the turn).
EVENTS_ALREADY_STORED = "_events_already_stored"


class MaskingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, saving every event with personal data masked.

    Configured in endpoints.yml (`type: bot.tracker_store.MaskingSQLTrackerStore`)
    with the SQL store's own settings (dialect, db, host, username, password...).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sqlite = sqlite_engine(self.engine.url)
            self.engine.dispose()
            self.engine, self.sessionmaker = sqlite, sessionmaker(bind=sqlite)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            setattr(tracker, EVENTS_ALREADY_STORED, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        events = list(tracker.events)
        held_now = {slot for slot in HELD_SLOTS if tracker.get_slot(slot) is not None}
        stored = getattr(tracker, EVENTS_ALREADY_STORED, None)
        if stored is None:  # a tracker not read from this store
            with self.session_scope() as session:
                stored = self._event_query(
                    session, tracker.sender_id, fetch_events_from_all_sessions=False
                ).count()
        # Masking costs CPU in proportion to what the customer sent: done in a worker
        # thread, so that the server's other conversations go on meanwhile.
        rows = await asyncio.to_thread(masked_rows, tracker.sender_id, events, stored, held_now)
        with self.session_scope() as session:
            if rows:  # one statement for the turn's events, in their order
                session.execute(self.SQLEvent.__table__.insert(), rows)
            released = slots_set(events[stored:]) & (HELD_SLOTS - held_now)
            if released:
                self._mask_stored_slot_values(session, tracker.sender_id, released)
            session.commit()
        setattr(tracker, EVENTS_ALREADY_STORED, len(events))

    def _mask_stored_slot_values(self, session: Any, sender_id: Text, slots: Set[Text]) -> None:
        """Masks the values these slots had in earlier turns (they are not needed any more)."""
        rows = session.query(self.SQLEvent).filter(
            self.SQLEvent.sender_id == sender_id,
            self.SQLEvent.type_name == "slot",
            self.SQLEvent.action_name.in_(sorted(slots)),
        )
        for row in rows:
            data = json.loads(row.data)
            masked = mask_value(data.get("value"))
            if masked != data.get("value"):
                row.data = json.dumps({**data, "value": masked})


def masked_rows(sender_id: Text, events: List[Event], stored: int, held: Set[Text]) -> List[Dict[Text, Any]]:
    """The table rows of the events from position `stored` on, masked."""
    answers = sensitive_answers(events)
    identifying = identification_messages(events)
    rows = []
    for index in range(stored, len(events)):
        event = events[index]
        data = masked_event(event.as_dict(), answers.get(index), held, strict=index in identifying)
        rows.append({
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": ((data.get("parse_data") or {}).get("intent") or {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        })
    return rows


def sensitive_answers(events: List[Event]) -> Dict[int, Text]:
    """Positions of the customer's messages that answer a sensitive question, with
    the marker that replaces them."""
    answers: Dict[int, Text] = {}
    requested: Optional[Text] = None
    for index, event in enumerate(events):
        if isinstance(event, SlotSet) and event.key == REQUESTED_SLOT:
            requested = event.value
        elif isinstance(event, UserUttered) and requested in SENSITIVE_SLOTS:
            answers[index] = SENSITIVE_SLOTS[requested]
    return answers


def identification_messages(events: List[Event]) -> Set[int]:
    """Positions of the customer's messages in the identification: while its form is
    active, and the first one after it stopped (identified or not)."""
    positions: Set[int] = set()
    identifying = just_stopped = False
    for index, event in enumerate(events):
        if isinstance(event, ActiveLoop):
            if event.name == IDENTIFICATION_FORM:
                identifying = True
            elif identifying:
                identifying, just_stopped = False, True
        elif isinstance(event, UserUttered):
            if identifying or just_stopped:
                positions.add(index)
            just_stopped = False
    return positions


def masked_event(data: Dict[Text, Any], answer_marker: Optional[Text], held: Set[Text],
                 strict: bool = False) -> Dict[Text, Any]:
    """The stored form of one event; `strict`: a customer's message of the identification
    (every date and six-digit number masked)."""
    mask = mask_for_logs if strict else None
    if data.get("event") == "slot":
        name, value = data.get("name"), data.get("value")
        if name in SENSITIVE_SLOTS and value is not None:
            return {**data, "value": SENSITIVE_SLOTS[name]}
        if name in held:
            return data
        if name in IDENTIFICATION_TEXT_SLOTS:
            mask = mask_for_logs
    masked = mask_value(data, mask) if mask else mask_value(data)
    if answer_marker is not None:  # a message answering a sensitive question
        masked["text"] = answer_marker
        parse_data = masked.get("parse_data") or {}
        parse_data["text"] = answer_marker
        for entity in parse_data.get("entities") or []:
            entity["value"] = answer_marker
    return masked


def slots_set(events: Iterable[Event]) -> Set[Text]:
    return {event.key for event in events if isinstance(event, SlotSet)}


def sqlite_engine(url: Any) -> Engine:
    """SQLite with its connections kept open (SQLAlchemy 1.4 opens and closes one per
    query on a file), in write-ahead-log mode, synced at checkpoints rather than at
    every commit: saving a turn no longer waits for the disk, which was most of its
    time (`make bench`). A crash of the server loses nothing; a power cut may lose the
    last turns, never the database's consistency. Production uses PostgreSQL."""
    engine = create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
    run_sqlite_pragmas(engine, "journal_mode=WAL", "synchronous=NORMAL")
    return engine
