"""The services' tests run twice: on SQLite (the default) and on PostgreSQL (production)."""
from typing import Iterator

import pytest

from tests.conftest import RunningServices, running_services


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServices]:
    workdir = tmp_path_factory.mktemp(f"services-{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite:///{workdir / 'oyat.db'}"
    else:
        database_url = request.getfixturevalue("postgresql_server").create_database("services")
    with running_services(workdir, database_url) as running:
        yield running
