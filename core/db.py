"""Database plumbing: declarative base, column types, engines and sessions.

Engines are created in the app's startup listener (never at import) and one
AsyncSession serves one request.
"""
from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base, sessionmaker
from sqlalchemy.types import DateTime, TypeDecorator

from core.settings import Settings, sqlite_path

logger = logging.getLogger(__name__)

# Stable constraint names so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))

# SQLite waits this long for a concurrent writer instead of failing at once.
SQLITE_BUSY_TIMEOUT_SECONDS = 30


class UtcDateTime(TypeDecorator):
    """Aware datetimes stored as naive UTC, read back as aware UTC.

    SQLite has no time zones; storing UTC everywhere keeps both databases alike.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def _sqlite_connect_args(url: str) -> dict:
    return {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS} if url.startswith("sqlite") else {}


def run_sqlite_pragmas(engine: Engine, *pragmas: str) -> None:
    """Runs `pragmas` on every new connection of a SQLite engine (nothing on others)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


def _enable_sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys on; WAL so that readers never block the writer."""
    run_sqlite_pragmas(engine, "foreign_keys=ON", "journal_mode=WAL")


def ensure_sqlite_directory(database_url: str) -> None:
    """Create the folder of a SQLite file (var/ on a fresh checkout)."""
    path = sqlite_path(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def create_sync_engine(settings_or_url: Settings | str) -> Engine:
    """A synchronous engine for the CLI, alembic and the demo data loader."""
    url = (
        settings_or_url.sync_database_url
        if isinstance(settings_or_url, Settings)
        else settings_or_url
    )
    engine = create_engine(
        url, future=True, hide_parameters=True, connect_args=_sqlite_connect_args(url)
    )
    _enable_sqlite_pragmas(engine)
    return engine


def create_app_engine(settings: Settings) -> AsyncEngine:
    """The async engine of a running service."""
    url = settings.async_database_url
    ensure_sqlite_directory(url)
    # hide_parameters: SQL errors must not carry personal data into logs.
    engine = create_async_engine(
        url,
        future=True,
        hide_parameters=True,
        pool_pre_ping=not url.startswith("sqlite"),
        connect_args=_sqlite_connect_args(url),
    )
    _enable_sqlite_pragmas(engine.sync_engine)
    return engine


# Any fixed number, the same in every process: the advisory lock below.
CREATE_TABLES_LOCK = 0x6F796174


async def create_missing_tables(engine: AsyncEngine, metadata: MetaData) -> None:
    """Creates the tables of a store a process keeps itself (IVR calls, claim outbox)
    when they are missing. Replicas starting together on an empty PostgreSQL database
    would all try at once, and all but one fail on a duplicate name: a lock held until
    the end of the transaction makes them take turns, and those after the first find
    the tables there."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CREATE_TABLES_LOCK})
        await connection.run_sync(metadata.create_all)


def install_database(app: Any, settings: Settings) -> None:
    """Open the engine when the server starts, dispose of it when it stops."""

    async def open_engine(app: Any, _loop: Any) -> None:
        app.ctx.engine = create_app_engine(settings)
        app.ctx.sessionmaker = sessionmaker(
            app.ctx.engine, class_=AsyncSession, expire_on_commit=False, future=True
        )
        await warn_if_schema_missing(app.ctx.engine)

    async def close_engine(app: Any, _loop: Any) -> None:
        engine = getattr(app.ctx, "engine", None)
        if engine is not None:
            await engine.dispose()

    app.register_listener(open_engine, "before_server_start")
    app.register_listener(close_engine, "after_server_stop")


async def warn_if_schema_missing(engine: AsyncEngine) -> None:
    """Serving does not migrate: say so early rather than fail on every request."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT version_num FROM alembic_version"))
    except Exception as error:
        logger.warning(
            "cannot read the database schema version (%s): is the database reachable, "
            "and was `python -m reference_services.cli init-db` run?", type(error).__name__,
        )


Handler = Callable[..., Awaitable[Any]]


def with_session(handler: Handler) -> Handler:
    """Give the handler its own session (second argument), closed after the request."""

    @functools.wraps(handler)
    async def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
        async with request.app.ctx.sessionmaker() as session:
            return await handler(request, session, *args, **kwargs)

    return wrapper
