"""What the telephone channel remembers of each call, and of each event already answered.

Kept in a database (SQLite by default, PostgreSQL in production: `IVR_DATABASE_URL`)
rather than in memory, so that a restart or a second Rasa replica still knows the
caller's number, the retry counters, the keypad menu on offer, and the reply of every
event (a gateway that retries an event gets the same reply, and nothing is done twice).
"""

import asyncio
import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.db import create_missing_tables
from core.settings import ASYNC_DRIVERS, default

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = default("IVR_DATABASE_URL")
# Replies are kept this long for replays; older events and ended calls are purged.
RETENTION = dt.timedelta(days=2)

_metadata = MetaData()
_calls = Table(
    "ivr_calls", _metadata,
    Column("call_id", String(100), primary_key=True),
    Column("state", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
_events = Table(
    "ivr_events", _metadata,
    Column("event_id", String(100), primary_key=True),
    Column("call_id", String(100), nullable=False),
    Column("body_digest", String(64), nullable=False),
    Column("reply", Text),  # null while the event is being processed
    Column("received_at", DateTime, nullable=False),
)


@dataclass
class Call:
    """One call on the telephone line, as the channel needs it between events."""

    call_id: str
    sender_id: str
    caller: Optional[str]  # E.164, None when hidden or not a phone number
    started_at: str
    ended: bool = False
    end_reason: Optional[str] = None
    # Failed turns in a row (silence, speech not recognised), reset by an understood turn.
    no_input: int = 0
    no_match: int = 0
    # Keypad digit → payload of the button it stands for, in the last answer.
    menu: Dict[str, str] = field(default_factory=dict)
    # The last question asked (say actions and the listen action), repeated on a re-prompt.
    last_prompt: List[Dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class StoredEvent:
    body_digest: str
    reply: Optional[Dict[str, Any]]


class CallStore:
    """Calls and answered events in a SQL database (tables created on first use)."""

    def __init__(self, database_url: str = DEFAULT_DATABASE_URL) -> None:
        self.database_url = database_url
        self._engine: Optional[AsyncEngine] = None
        self._ready = asyncio.Lock()

    async def _connect(self) -> AsyncEngine:
        async with self._ready:
            if self._engine is None:
                url = make_url(self.database_url)
                backend = url.get_backend_name()
                if backend not in ASYNC_DRIVERS:
                    raise ValueError("IVR_DATABASE_URL must point to SQLite or PostgreSQL")
                if backend == "sqlite" and url.database not in (None, "", ":memory:"):
                    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                engine = create_async_engine(url.set(drivername=ASYNC_DRIVERS[backend]))
                await create_missing_tables(engine, _metadata)
                self._engine = engine
        return self._engine

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def get_call(self, call_id: str) -> Optional[Call]:
        engine = await self._connect()
        async with engine.connect() as connection:
            row = (await connection.execute(select(_calls.c.state).where(_calls.c.call_id == call_id))).first()
        return Call(**json.loads(row.state)) if row else None

    async def find_event(self, event_id: str) -> Optional[StoredEvent]:
        engine = await self._connect()
        async with engine.connect() as connection:
            row = (await connection.execute(
                select(_events.c.body_digest, _events.c.reply).where(_events.c.event_id == event_id)
            )).first()
        if row is None:
            return None
        return StoredEvent(row.body_digest, json.loads(row.reply) if row.reply else None)

    async def claim_event(self, event_id: str, call_id: str, body_digest: str) -> bool:
        """Marks the event as being processed; False when it was already received."""
        engine = await self._connect()
        try:
            async with engine.begin() as connection:
                await connection.execute(insert(_events).values(
                    event_id=event_id, call_id=call_id, body_digest=body_digest, reply=None, received_at=_now(),
                ))
        except IntegrityError:
            return False
        return True

    async def release_event(self, event_id: str) -> None:
        """Forgets an event that could not be processed, so that the gateway may retry it."""
        engine = await self._connect()
        async with engine.begin() as connection:
            await connection.execute(delete(_events).where(_events.c.event_id == event_id, _events.c.reply.is_(None)))

    async def finish_event(self, event_id: str, reply: Dict[str, Any], call: Call) -> None:
        """Stores the event's reply and the call's new state together."""
        engine = await self._connect()
        state = json.dumps(asdict(call), ensure_ascii=False)
        async with engine.begin() as connection:
            await connection.execute(
                update(_events).where(_events.c.event_id == event_id).values(reply=json.dumps(reply, ensure_ascii=False))
            )
            updated = await connection.execute(
                update(_calls).where(_calls.c.call_id == call.call_id).values(state=state, updated_at=_now())
            )
            if updated.rowcount == 0:
                await connection.execute(insert(_calls).values(call_id=call.call_id, state=state, updated_at=_now()))

    async def save_call(self, call: Call) -> None:
        """Stores a call's state outside any event (the gateway ended the conversation)."""
        engine = await self._connect()
        state = json.dumps(asdict(call), ensure_ascii=False)
        async with engine.begin() as connection:
            await connection.execute(
                update(_calls).where(_calls.c.call_id == call.call_id).values(state=state, updated_at=_now())
            )

    async def purge(self) -> None:
        """Drops the events and calls older than RETENTION."""
        engine = await self._connect()
        cutoff = _now() - RETENTION
        async with engine.begin() as connection:
            await connection.execute(delete(_events).where(_events.c.received_at < cutoff))
            await connection.execute(delete(_calls).where(_calls.c.updated_at < cutoff))


def _now() -> dt.datetime:
    """Naive UTC (both SQLite and PostgreSQL store it as is)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
