"""Helpers of the service tests: looking into the database, making customers."""
from __future__ import annotations

import functools
import itertools
import re
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.db import create_sync_engine
from core.settings import sync_database_url

PARIS = ZoneInfo("Europe/Paris")
MARIE, KARIM, SOPHIE = "10000001", "10000002", "10000003"

_customer_numbers = itertools.count(1)


def today_paris() -> date:
    return datetime.now(PARIS).date()


@functools.lru_cache(maxsize=None)
def _engine(database_url: str) -> Engine:
    return create_sync_engine(sync_database_url(database_url))


def _statement(sql: str, params: Sequence) -> tuple:
    """`?` placeholders (written once for SQLite and PostgreSQL) as named parameters."""
    names = iter(range(len(params)))
    return text(re.sub(r"\?", lambda _: f":p{next(names)}", sql)), {f"p{n}": value for n, value in enumerate(params)}


def query(services: Any, sql: str, params: Sequence = ()) -> list[tuple]:
    """Rows of a read-only query on the services' database."""
    with _engine(services.database_url).connect() as connection:
        return [tuple(row) for row in connection.execute(*_statement(sql, params))]


def execute(services: Any, sql: str, params: Sequence = ()) -> None:
    """A write behind the services' back (e.g. to move time forward)."""
    with _engine(services.database_url).begin() as connection:
        connection.execute(*_statement(sql, params))


def count(services: Any, table: str, where: str = "1=1", params: Sequence = ()) -> int:
    return query(services, f"SELECT COUNT(*) FROM {table} WHERE {where}", params)[0][0]


def table_counts(services: Any, *tables: str) -> dict[str, int]:
    return {table: count(services, table) for table in tables}


def db_time(moment: datetime) -> str:
    """How UtcDateTime columns store a moment in SQLite."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def minutes_ago(minutes: int) -> str:
    return db_time(datetime.now(timezone.utc) - timedelta(minutes=minutes))


def new_customer(services: Any, birth_date: str = "1992-04-17") -> dict:
    """A customer of our own, so that stateful tests (locks) stay independent."""
    number = next(_customer_numbers)
    customer = {
        "customer_id": f"2{number:07d}",
        "birth_date": birth_date,
        "email": f"client{number}@example.fr",
        "phone": f"+336000{number:05d}",
    }
    execute(
        services,
        "INSERT INTO customers (customer_id, first_name, last_name, birth_date, email, phone,"
        " street, postcode, city, created_at) VALUES (?, 'Test', 'Client', ?, ?, ?,"
        " '1 place de la Brèche', '79000', 'Niort', ?)",
        (customer["customer_id"], birth_date, customer["email"], customer["phone"],
         db_time(datetime.now(timezone.utc))),
    )
    return customer


PASSWORD = "correct horse battery staple"
_adviser_numbers = itertools.count(1)


def new_adviser(services: Any, role: str = "adviser", password: str = PASSWORD) -> str:
    """An adviser of our own (tests that lock or take stay independent): their login."""
    from reference_services.policy.adviser_accounts import hash_password

    login = f"agent{next(_adviser_numbers)}-{uuid.uuid4().hex[:6]}"
    execute(services, "INSERT INTO advisers (login, display_name, role, password_hash, failed_logins, created_at)"
                      " VALUES (?, ?, ?, ?, 0, ?)",
            (login, f"Agent {login}", role, hash_password(password), db_time(datetime.now(timezone.utc))))
    return login


def sent_messages(services: Any, recipient: str) -> list[dict]:
    """The e-mails and SMS "sent" to `recipient`, in the order sent, read from the outbox
    table as the recipient's mailbox or phone would receive them: the services serve
    them to nobody."""
    rows = query(services, "SELECT id, channel, recipient, subject, body FROM outbox WHERE recipient = ? ORDER BY id",
                 (recipient,))
    return [dict(zip(("id", "channel", "recipient", "subject", "body"), row, strict=True)) for row in rows]


def latest_message(services: Any, recipient: str) -> dict:
    messages = sent_messages(services, recipient)
    assert messages, f"nothing sent to {recipient}"
    return messages[-1]


def latest_code(services: Any, phone: str) -> str:
    """The six-digit code of the last SMS sent to `phone`."""
    return re.search(r"\b\d{6}\b", latest_message(services, phone)["body"]).group(0)
