"""Alembic environment, configured from code (see reference_services.cli.run_migrations).

The URL comes from `config.attributes["database_url"]` when given, else from
DATABASE_URL; no alembic.ini is needed.
"""
from alembic import context

from core.db import create_sync_engine
from core.settings import database_url_from_env, sync_database_url
from reference_services.models import metadata

config = context.config


def _database_url() -> str:
    return config.attributes.get("database_url") or sync_database_url(database_url_from_env())


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_sync_engine(_database_url())
    with engine.connect() as connection:
        _run_on(connection)
    engine.dispose()


def _run_on(connection) -> None:
    # Batch mode lets later migrations alter tables on SQLite too.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
