"""Figures for the business, computed from the stored (masked) conversations.

Reads the table of Rasa's SQL tracker store (`events`: one row per event, JSON in
`data`), where bot/conversations.py finds it. A conversation is one sender id; its day
is the Paris day of its first customer message, its channel the channel of that
message. Per day and channel:

- conversations: those with at least one customer message;
- contained: those that ended without a hand-off; a hand-off is a transfer reference
  (TRF-…) told to the customer, or an adviser who wrote in the conversation;
- fallback turns: customer messages the assistant did not understand (intent
  nlu_fallback, or answered by utter_default or « Vouliez-vous dire … ? »), over all
  the customer messages;
- hand-offs: conversations handed off; claims declared (utter_claim_filed) and
  attestations issued
  (utter_attestation_ready, utter_school_attestation_ready): how many times it was said.

The most frequent requests are the intents of the customer messages (button payloads
included), over the same period.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from sqlalchemy import create_engine, text

from core.clock import PARIS

HANDOFF_REFERENCE = re.compile(r"\bTRF-[0-9]{4}-[0-9]{6}\b")
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_RESPONSES = {"utter_default", "utter_did_you_mean"}
# A claim filed (one queued during an outage counts when the customer is told it is filed).
CLAIMS_DECLARED = {"utter_claim_filed"}
ATTESTATIONS_ISSUED = {"utter_attestation_ready", "utter_school_attestation_ready"}
# Intents that say nothing about what customers come for.
NOT_REQUESTS = {FALLBACK_INTENT, "session_start", "restart"}

CSV_COLUMNS = ("day", "channel", "conversations", "contained", "containment_rate", "customer_messages",
               "fallback_messages", "fallback_rate", "handoffs", "handoff_rate", "claims_declared",
               "attestations_issued")


@dataclass
class Conversation:
    """What the figures need of one stored conversation."""

    sender_id: str
    day: Optional[date] = None
    channel: str = "inconnu"
    customer_messages: int = 0
    fallback_messages: int = 0
    handed_off: bool = False
    claims: int = 0
    attestations: int = 0
    intents: Counter = field(default_factory=Counter)


@dataclass
class DayFigures:
    day: date
    channel: str
    conversations: int = 0
    contained: int = 0
    customer_messages: int = 0
    fallback_messages: int = 0
    handoffs: int = 0
    claims_declared: int = 0
    attestations_issued: int = 0

    @property
    def containment_rate(self) -> float:
        return _rate(self.contained, self.conversations)

    @property
    def fallback_rate(self) -> float:
        return _rate(self.fallback_messages, self.customer_messages)

    @property
    def handoff_rate(self) -> float:
        return _rate(self.handoffs, self.conversations)

    def as_row(self) -> Dict[str, Any]:
        row = asdict(self)
        row["day"] = self.day.isoformat()
        row.update(containment_rate=self.containment_rate, fallback_rate=self.fallback_rate,
                   handoff_rate=self.handoff_rate)
        return {column: row[column] for column in CSV_COLUMNS}


@dataclass
class Figures:
    days: List[DayFigures]
    top_intents: List[Tuple[str, int]]

    def as_json(self) -> Dict[str, Any]:
        return {"days": [figures.as_row() for figures in self.days],
                "top_intents": [{"intent": name, "count": count} for name, count in self.top_intents]}


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def paris_day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).astimezone(PARIS).date()


def stored_events(url: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(sender id, event) of the customers', the assistant's and the actions' events,
    each conversation's in order."""
    engine = create_engine(url, future=True, hide_parameters=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT sender_id, data FROM events WHERE type_name IN ('user', 'bot', 'action') "
                "ORDER BY sender_id, id"))
            for sender_id, data in rows:
                yield sender_id, json.loads(data)
    finally:
        engine.dispose()


def conversations(events: Iterable[Tuple[str, Dict[str, Any]]]) -> List[Conversation]:
    found: Dict[str, Conversation] = {}
    last_user: Dict[str, Dict[str, Any]] = {}
    fallback_counted: set = set()
    for sender_id, event in events:
        conversation = found.setdefault(sender_id, Conversation(sender_id))
        kind = event.get("event")
        if kind == "user":
            conversation.customer_messages += 1
            if conversation.day is None and event.get("timestamp") is not None:
                conversation.day = paris_day(float(event["timestamp"]))
                conversation.channel = event.get("input_channel") or "inconnu"
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent == FALLBACK_INTENT:
                conversation.fallback_messages += 1
                fallback_counted.add(id(event))
            elif intent and intent not in NOT_REQUESTS:
                conversation.intents[intent] += 1
            last_user[sender_id] = event
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            response = metadata.get("utter_action")
            if metadata.get("adviser") or HANDOFF_REFERENCE.search(event.get("text") or ""):
                conversation.handed_off = True
            if response in FALLBACK_RESPONSES:
                asked = last_user.get(sender_id)
                if asked is not None and id(asked) not in fallback_counted:
                    conversation.fallback_messages += 1
                    fallback_counted.add(id(asked))
            elif response in CLAIMS_DECLARED:
                conversation.claims += 1
            elif response in ATTESTATIONS_ISSUED:
                conversation.attestations += 1
    return [conversation for conversation in found.values() if conversation.customer_messages]


def figures(found: Sequence[Conversation], since: Optional[date] = None, until: Optional[date] = None,
            top: int = 10) -> Figures:
    """Per day and channel, oldest day first; the `top` most frequent requests."""
    days: Dict[Tuple[date, str], DayFigures] = {}
    intents: Counter = Counter()
    for conversation in found:
        day = conversation.day
        if day is None or (since and day < since) or (until and day > until):
            continue
        row = days.setdefault((day, conversation.channel), DayFigures(day, conversation.channel))
        row.conversations += 1
        row.contained += 0 if conversation.handed_off else 1
        row.handoffs += 1 if conversation.handed_off else 0
        row.customer_messages += conversation.customer_messages
        row.fallback_messages += conversation.fallback_messages
        row.claims_declared += conversation.claims
        row.attestations_issued += conversation.attestations
        intents.update(conversation.intents)
    ordered = [days[key] for key in sorted(days)]
    return Figures(ordered, sorted(intents.items(), key=lambda item: (-item[1], item[0]))[:top])


def compute(url: str, since: Optional[date] = None, until: Optional[date] = None) -> Figures:
    return figures(conversations(stored_events(url)), since, until)


def to_csv(result: Figures) -> str:
    """Per day and channel, then the most frequent requests after an empty line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.days:
        values = row.as_row()
        writer.writerow([values[column] for column in CSV_COLUMNS])
    writer.writerow([])
    writer.writerow(("intent", "count"))
    for name, count in result.top_intents:
        writer.writerow((name, count))
    return out.getvalue()
