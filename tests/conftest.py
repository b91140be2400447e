"""Fixtures shared by the whole test suite.

`services` runs the policy and claims services (`python -m reference_services.cli serve
--service all`) on a fresh SQLite database with the demo data, once per session.
`postgresql_server` is a PostgreSQL cluster of the test's own (Debian's postgresql
package), for the services on PostgreSQL (tests/reference_services) and the scale-out test.
"""
from __future__ import annotations

import os
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest
import requests

from harness.servers import free_port, start, stop, wait_until_up

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_SERVICES_API_TOKEN = "test-services-token-0123456789"
TEST_DOCUMENT_LINK_SECRET = "test-document-link-secret-0123456789"
TEST_IDENTITY_ASSERTION_SECRET = "test-identity-assertion-secret-0123456789"
# The secret the telephone line signs the caller's number with (Rasa server and policy service).
TEST_CHANNEL_ASSERTION_SECRET = "test-channel-assertion-secret-0123456789"
# The secret of the espace-client session tokens, which the policy service verifies.
TEST_ESPACE_CLIENT_JWT_SECRET = "test-espace-client-secret-of-32-bytes-at-least"
# The advisers' console: its token, the grants the policy service signs, the demo advisers.
TEST_ADVISER_CONSOLE_TOKEN = "test-adviser-console-token-0123456789"
TEST_ADVISER_GRANT_SECRET = "test-adviser-grant-secret-0123456789"
TEST_ADVISER_DEMO_PASSWORD = "demo-adviser-password-0123"
# The notifier's token (connectors/notifier.py): the policy service's and the Rasa server's notice routes.
TEST_NOTIFIER_TOKEN = "test-notifier-token-for-the-stack-0123456789"
# The customer a path is about, whose identity assertion a call carries by default.
_PATH_CUSTOMER = re.compile(r"/v1/customers/(\d{8})(?:/|$)")
_FROM_PATH = object()


def identity_assertion(customer_id: str, *, minutes: float = 60, issued_minutes_ago: float = 0,
                       conversation_id: str = "test-conversation", channel: str = "rest",
                       verified_by: str = "sms_code",
                       secret: str = TEST_IDENTITY_ASSERTION_SECRET) -> str:
    """An assertion as the policy service issues it, signed with the test services' secret
    (another `secret`: a forgery); a negative lifetime gives an expired one."""
    from core import identity_assertion as assertions

    issued_at = datetime.now(timezone.utc) - timedelta(minutes=issued_minutes_ago)
    token, _ = assertions.issue(secret, customer_id, verified_by, channel, conversation_id,
                                issued_at, timedelta(minutes=minutes))
    return token


def channel_phone_assertion(phone: str, conversation_id: str, *, channel: str = "ivr", minutes: float = 5,
                            secret: str = TEST_CHANNEL_ASSERTION_SECRET) -> str:
    """The caller's number as the telephone line signs it for the policy service (another
    `secret`: a forgery); a negative lifetime gives an expired one."""
    from core import channel_assertion

    return channel_assertion.issue(secret, phone, channel, conversation_id, datetime.now(timezone.utc),
                                   timedelta(minutes=minutes))


def reply_address_assertion(channel: str, address: str, conversation_id: str, *, minutes: float = 5,
                            secret: str = TEST_CHANNEL_ASSERTION_SECRET) -> str:
    """The address notices may go to, as a channel signs it (core/reply_address.py; another
    `secret`: a forgery); a negative lifetime gives an expired one."""
    from core import reply_address

    return reply_address.issue(secret, channel, address, conversation_id, datetime.now(timezone.utc),
                               timedelta(minutes=minutes))


def as_customer(customer_id: str, **assertion: Any) -> dict:
    """The header of a call made for this identified customer."""
    return {"X-Identity-Assertion": identity_assertion(customer_id, **assertion)}
STARTUP_TIMEOUT_SECONDS = 30


@dataclass
class RunningServices:
    """The services under test and an authorized HTTP helper."""

    base_url: str
    token: str
    database_url: str
    database_path: Optional[Path]  # the SQLite file (None on PostgreSQL)
    env: dict
    log_path: Path
    workdir: Path  # the services' working directory (var/uploads is in it)
    http: requests.Session = field(default_factory=requests.Session, repr=False)

    def request(self, method: str, path: str, *, authorized: bool = True,
                identified_as: Any = _FROM_PATH, **kwargs: Any) -> requests.Response:
        """A call with the service token (unless not `authorized`) and, as the action
        server makes it for an identified customer, the identity assertion of the customer
        the path names (`identified_as`: another customer's, or None for none)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if authorized:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        if identified_as is _FROM_PATH:
            named = _PATH_CUSTOMER.search(path)
            identified_as = named.group(1) if named else None
        if identified_as is not None:
            headers.setdefault("X-Identity-Assertion", identity_assertion(identified_as))
        kwargs.setdefault("timeout", 10)
        return self.http.request(method, self.base_url + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)






@contextmanager
def running_services(workdir: Path, database_url: str,
                     extra_env: Optional[Dict[str, str]] = None) -> Iterator[RunningServices]:
    """Both services on `database_url` (migrated, demo data loaded) on a free port;
    `extra_env`: more variables (SMTP_URL...)."""
    from core.settings import Settings, sqlite_path
    from reference_services.cli import init_database

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SERVICES_API_TOKEN": TEST_SERVICES_API_TOKEN,
        "DOCUMENT_LINK_SECRET": TEST_DOCUMENT_LINK_SECRET,
        "IDENTITY_ASSERTION_SECRET": TEST_IDENTITY_ASSERTION_SECRET,
        "ESPACE_CLIENT_JWT_SECRET": TEST_ESPACE_CLIENT_JWT_SECRET,
        "CHANNEL_ASSERTION_SECRET": TEST_CHANNEL_ASSERTION_SECRET,
        "ADVISER_CONSOLE_TOKEN": TEST_ADVISER_CONSOLE_TOKEN,
        "ADVISER_GRANT_SECRET": TEST_ADVISER_GRANT_SECRET,
        "ADVISER_DEMO_PASSWORD": TEST_ADVISER_DEMO_PASSWORD,
        "NOTIFIER_TOKEN": TEST_NOTIFIER_TOKEN,
        "DOCUMENTS_PUBLIC_URL": base_url,
        "PYTHONPATH": str(REPO_ROOT),
        **(extra_env or {}),
    }
    init_database(Settings.from_env(env))
    log_path = workdir / "services.log"
    process = start(
        [sys.executable, "-m", "reference_services.cli", "serve", "--service", "all", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir, env=env, log_path=log_path,
    )
    try:
        wait_until_up(base_url + "/health", process, STARTUP_TIMEOUT_SECONDS, log_path)
        yield RunningServices(base_url, TEST_SERVICES_API_TOKEN, database_url,
                              sqlite_path(database_url), env, log_path, workdir)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServices]:
    workdir = tmp_path_factory.mktemp("services")
    with running_services(workdir, f"sqlite:///{workdir / 'oyat.db'}") as running:
        yield running


@pytest.fixture(scope="session")
def postgresql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A PostgreSQL cluster on a free loopback port (`create_database` gives a fresh
    database's URL). Skipped only where Debian's postgresql package is not installed
    (`make test` installs it: system-packages.txt)."""
    from harness.engines import PostgresServer, missing_engines

    if "postgresql" in missing_engines():
        pytest.skip("PostgreSQL is not installed (Debian package postgresql)")
    server = PostgresServer().start(tmp_path_factory.mktemp("postgresql") / "postgresql.log")
    try:
        yield server
    finally:
        server.stop()



_SESSION_STARTED = time.time()


def pytest_terminal_summary(terminalreporter) -> None:
    """Shows the NLU evaluation report (tests/dialogue/test_nlu_evaluation.py) when it ran."""
    report = REPO_ROOT / "test-results" / "nlu" / "summary.txt"
    if report.exists() and report.stat().st_mtime > _SESSION_STARTED:
        terminalreporter.write_sep("-", "NLU evaluation on the held-out examples (test-results/nlu)")
        terminalreporter.write(report.read_text())
