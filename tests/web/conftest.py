"""The advisers' console served by `python -m web.site`, against the test services.

`console` is the web process (its Rasa server is an address where nothing listens unless a
test says otherwise: the pages then say the conversation cannot be read). `ConsoleUser`
is an adviser's browser without a script: a cookie jar, forms posted with the page's
CSRF token and the console's Origin, as a browser posts them.
"""

import itertools
import os
import re
import sys
import uuid
from datetime import datetime, timezone
from typing import Any, Optional

import pytest
import requests

from harness.servers import free_port, start, stop, wait_until_up
from tests.conftest import REPO_ROOT, TEST_ADVISER_DEMO_PASSWORD, identity_assertion
from tests.reference_services.helpers import execute, query

# The web process's own settings: the console's token, never the grant secret.
WEB_SETTINGS = ("ADVISER_CONSOLE_TOKEN", "ESPACE_CLIENT_JWT_SECRET")
_CSRF = re.compile(r'<meta name="csrf-token" content="([0-9a-f]{64})">')
_advisers = itertools.count(1)


def serve_site(services: Any, log_dir: Any, rasa_url: Optional[str] = None, **env: str) -> tuple:
    """A web process talking to `services` (and the Rasa server at `rasa_url`)."""
    port = free_port()
    log = log_dir / f"site-{port}.log"
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("ADVISER_")},
        **{name: services.env[name] for name in WEB_SETTINGS},
        "PYTHONPATH": str(REPO_ROOT),
        "POLICY_SERVICE_URL": services.base_url,
        "RASA_SERVER_URL": rasa_url or f"http://127.0.0.1:{free_port()}",
        "SERVICES_TIMEOUT_SECONDS": "5",
        **env,
    }
    process = start([sys.executable, "-m", "web.site", "--port", str(port)], REPO_ROOT, environment, log)
    wait_until_up(f"http://127.0.0.1:{port}/favicon.ico", process, 30, log)
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def console(services, tmp_path_factory) -> str:
    process, url = serve_site(services, tmp_path_factory.mktemp("console"))
    yield url
    stop(process)


class ConsoleUser:
    """An adviser's browser without a script."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.csrf = ""

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        page = self.http.get(self.url + path, **kwargs)
        found = _CSRF.search(page.text)
        if found:
            self.csrf = found.group(1)
        return page

    def post(self, path: str, data: Optional[dict] = None, *, csrf: Optional[str] = None,
             origin: Optional[str] = "", **kwargs: Any) -> requests.Response:
        """A form posted from a page of the console (`origin=None`: no Origin header;
        `csrf=""`: no token)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if origin is not None:
            headers["Origin"] = origin or self.url
        data = dict(data or {})
        token = self.csrf if csrf is None else csrf
        if token:
            data["csrf"] = token
        kwargs.setdefault("timeout", 15)
        kwargs.setdefault("allow_redirects", False)
        return self.http.post(self.url + path, data=data, headers=headers, **kwargs)

    def log_in(self, login: str, password: str = TEST_ADVISER_DEMO_PASSWORD, **kwargs: Any) -> requests.Response:
        answer = self.post("/conseiller/connexion", {"identifiant": login, "mot_de_passe": password}, **kwargs)
        if answer.status_code == 303:
            self.get(answer.headers["Location"])
        return answer

    @property
    def session(self) -> Optional[str]:
        return self.http.cookies.get("oyat_conseiller")


@pytest.fixture
def user(console) -> ConsoleUser:
    return ConsoleUser(console)


def new_adviser(services: Any, role: str = "adviser", password: str = "a-password-of-the-test-0123") -> dict:
    """An adviser of the test's own (a lock-out or an expired session touches no other test)."""
    from argon2 import PasswordHasher

    number = next(_advisers)
    login = f"test-{role}-{number}-{uuid.uuid4().hex[:6]}"
    execute(services,
            "INSERT INTO advisers (login, display_name, role, password_hash, failed_logins, created_at) "
            "VALUES (?, ?, ?, ?, 0, ?)",
            (login, f"Conseiller Test {number}", role, PasswordHasher().hash(password),
             datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")))
    return {"login": login, "password": password, "display_name": f"Conseiller Test {number}", "role": role}


def file_handoff(services: Any, *, customer_id: Optional[str] = None, channel: str = "widget",
                 conversation_id: Optional[str] = None, summary: str = "Derniers messages du client :\n- bonjour",
                 contact: Optional[str] = None) -> str:
    """A hand-off filed as the action server files it; its reference."""
    body = {"customer_id": customer_id, "channel": channel, "reason": "demande du client", "summary": summary}
    if conversation_id:
        body["conversation_id"] = conversation_id
    if contact:
        body["contact"] = contact
    headers = {"X-Identity-Assertion": identity_assertion(customer_id)} if customer_id else {}
    answer = services.post("/v1/handoffs", json=body, identified_as=None, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["reference"]


def adviser_id(services: Any, login: str) -> int:
    return query(services, "SELECT id FROM advisers WHERE login = ?", (login,))[0][0]
