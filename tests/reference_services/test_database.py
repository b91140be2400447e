"""Migrations and demo data: the schema comes from alembic, the demo data loads once."""
import asyncio
import sqlite3
from contextlib import closing
from dataclasses import replace

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from argon2 import PasswordHasher
from sqlalchemy import inspect

from core.db import create_sync_engine
from core.settings import Settings
from reference_services.cli import alembic_config, init_database, print_outbox, run_migrations
from reference_services.models import metadata
from tests.reference_services.helpers import count

DEMO_COUNTS = {"customers": 3, "contracts": 6, "claims": 2, "claim_phase_events": 7}


@pytest.fixture
def settings(tmp_path):
    return Settings(database_url=f"sqlite:///{tmp_path / 'db' / 'oyat.db'}",
                    services_api_token="t", document_link_secret="s")


def table_counts(settings, tables=DEMO_COUNTS):
    path = settings.database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as connection:
        return {t: connection.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in tables}


def test_migrations_up_from_an_empty_database_give_the_models_schema(settings):
    run_migrations(settings)
    engine = create_sync_engine(settings)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []


def test_migrations_down_to_base_leave_no_table(settings):
    run_migrations(settings)
    command.downgrade(alembic_config(settings.sync_database_url), "base")
    path = settings.database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables <= {"alembic_version"}


def test_demo_data_loads_once(settings):
    assert init_database(settings) is True
    assert table_counts(settings) == DEMO_COUNTS
    assert init_database(settings) is False
    assert table_counts(settings) == DEMO_COUNTS


def test_a_production_database_is_migrated_without_the_demo_customers(settings):
    assert init_database(settings, demo_data=False) is False
    assert set(table_counts(settings).values()) == {0}


def demo_advisers(settings):
    path = settings.database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as connection:
        return {login: (name, role, password_hash) for login, name, role, password_hash in connection.execute(
            "SELECT login, display_name, role, password_hash FROM advisers ORDER BY login")}


def test_the_demo_advisers_take_the_current_demo_password_at_every_init(settings):
    first = replace(settings, adviser_demo_password="premier-mot-de-passe")
    init_database(first)
    advisers = demo_advisers(settings)
    assert {login: (name, role) for login, (name, role, _hash) in advisers.items()} == {
        "conseiller": ("Camille Martin", "adviser"), "superviseur": ("Julien Roche", "supervisor")}
    assert all(PasswordHasher().verify(h, "premier-mot-de-passe") for _n, _r, h in advisers.values())
    init_database(replace(settings, adviser_demo_password="second-mot-de-passe"))
    advisers = demo_advisers(settings)
    assert len(advisers) == 2
    assert all(PasswordHasher().verify(h, "second-mot-de-passe") for _n, _r, h in advisers.values())


@pytest.mark.parametrize("password, demo_data", [("un-mot-de-passe", False), ("", True)])
def test_no_demo_adviser_without_the_demo_data_or_a_demo_password(settings, password, demo_data):
    init_database(replace(settings, adviser_demo_password=password), demo_data=demo_data)
    assert demo_advisers(settings) == {}


def test_demo_data_is_not_loaded_again_into_a_running_database(services):
    running = Settings.from_env(services.env, read_dotenv=False)
    customers = count(services, "customers")
    assert init_database(running) is False
    assert count(services, "customers") == customers


def test_outbox_command_prints_what_was_sent(services, capsys):
    services.post("/v1/customers/10000001/identifier-reminder")
    running = Settings.from_env(services.env, read_dotenv=False)
    shown = print_outbox(running, "marie.dupont@example.fr")
    output = capsys.readouterr().out
    assert shown >= 1
    assert "Objet : Votre identifiant Oyat Assurance" in output
    assert "10000001" in output


def test_migrations_match_the_models_on_postgresql(postgresql_server):
    settings = Settings(database_url=postgresql_server.create_database("migrations"),
                        services_api_token="t", document_link_secret="s")
    config = alembic_config(settings.sync_database_url)
    assert init_database(settings) is True
    engine = create_sync_engine(settings)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    command.downgrade(config, "base")
    assert differences == []


async def test_processes_creating_their_own_tables_at_once_on_postgresql_all_succeed(postgresql_server):
    from sqlalchemy.ext.asyncio import create_async_engine

    from actions.claim_outbox import metadata as claim_outbox_tables
    from connectors.ivr_calls import _metadata as ivr_call_tables
    from core.db import create_missing_tables

    url = postgresql_server.create_database("own_tables").replace("postgresql://", "postgresql+asyncpg://")
    replicas = [create_async_engine(url) for _ in range(8)]
    try:
        # Without the lock, most of these fail on a duplicate table or type name.
        await asyncio.gather(*(create_missing_tables(engine, tables) for engine in replicas
                               for tables in (claim_outbox_tables, ivr_call_tables)))
        async with replicas[0].connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert set(claim_outbox_tables.tables) | set(ivr_call_tables.tables) <= set(names)
    finally:
        for engine in replicas:
            await engine.dispose()
