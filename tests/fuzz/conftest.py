"""Property-based tests (hypothesis) of every parser of untrusted input, one module per
family of parsers: REST bodies, the widget's socket.io events, the messaging apps' webhooks,
the phone line's events and transcriptions, uploads, the services' JSON bodies, masking,
the actions' parsing helpers.

Reproducible and bounded: examples are derived from each test's name (derandomize), the
example database is off and hypothesis's caches go to test-results/hypothesis (nothing is
written into the repository), and each test sets its own `max_examples` and `deadline`, so
that the whole folder runs in well under a minute.
"""
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from sanic import Sanic

from connectors import rate_limit
from tests.conftest import RunningServices, running_services

REPO_ROOT = Path(__file__).resolve().parents[2]

set_hypothesis_home_dir(REPO_ROOT / "test-results" / "hypothesis")
settings.register_profile(
    "oyat",
    derandomize=True,
    database=None,
    print_blob=False,
    # Servers are module fixtures shared by every example: their state is meant to carry over.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("oyat")

# Several sanic apps start in this process (one per channel): sanic's test mode lets each
# start from its original methods, whatever the order of the tests.
Sanic.test_mode = True


@pytest.fixture(scope="module")
def generous_rate_limits():
    """Limits no fuzzing run reaches: the properties are about parsing, not about throttling
    (tests/connectors/test_rate_limit.py pins the limits)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("RATE_LIMIT_PER_SENDER", "1000000/1")
    patch.setenv("RATE_LIMIT_PER_IP", "1000000/1")
    patch.setattr(rate_limit, "_limiter", None)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def fuzzed_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServices]:
    """Both services on a database of their own: fuzzing counts wrong identification answers,
    files claims and uploads files that no other test should meet."""
    workdir = tmp_path_factory.mktemp("fuzzed-services")
    with running_services(workdir, f"sqlite:///{workdir / 'oyat.db'}") as running:
        yield running
