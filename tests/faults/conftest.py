"""A whole stack whose processes the fault tests stop and start for real: policy and
claims services (two processes, one database), a slow proxy in front of the claims
service, the action server, the claim outbox worker and the Rasa server."""
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import pytest
import requests

from connectors.guard import conversation_id
from harness.servers import free_port, start, stop, wait_until_up
from tests.actions.helpers import JWT_SECRET
from tests.conftest import (
    TEST_CHANNEL_ASSERTION_SECRET,
    TEST_DOCUMENT_LINK_SECRET,
    TEST_IDENTITY_ASSERTION_SECRET,
    TEST_SERVICES_API_TOKEN,
)
from tests.dialogue.conftest import trained_model  # noqa: F401 (the fixture, shared)

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# The actions give up on the claims service after this long (then the outbox takes over).
SERVICES_TIMEOUT_SECONDS = 2


@dataclass
class FaultStack:
    workdir: Path
    env: Dict[str, str]
    ports: Dict[str, int]
    commands: Dict[str, List[str]]
    health: Dict[str, str]
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['rasa']}"

    def start(self, name: str) -> None:
        log = self.workdir / f"{name}.log"
        process = start(self.commands[name], ROOT, self.env, log)
        self.processes[name] = process
        wait_until_up(self.health[name], process, 300 if name == "rasa" else 60, log)

    def stop(self, name: str) -> None:
        stop(self.processes.pop(name))

    def ensure_running(self, name: str) -> None:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            self.start(name)

    def say(self, sender: str, text: str, **metadata) -> list:
        answer = requests.post(f"{self.url}/webhooks/rest/webhook", timeout=60,
                               json={"sender": sender, "message": text, "metadata": metadata})
        answer.raise_for_status()
        return answer.json()

    def tracker(self, sender: str) -> dict:
        answer = requests.get(f"{self.url}/conversations/{conversation_id('rest', sender)}/tracker",
                              params={"token": "fault-api-token"}, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def set_claims_delay(self, seconds: float) -> None:
        requests.put(f"http://127.0.0.1:{self.ports['proxy']}/__delay__",
                     params={"seconds": seconds}, timeout=5).raise_for_status()

    def services_rows(self, sql: str, params=()) -> list:
        with closing(sqlite3.connect(self.workdir / "oyat.db", timeout=10)) as connection:
            return connection.execute(sql, params).fetchall()

    def outbox_rows(self, sql: str, params=()) -> list:
        with closing(sqlite3.connect(self.workdir / "claim_outbox.db", timeout=10)) as connection:
            return connection.execute(sql, params).fetchall()


@pytest.fixture(scope="package")
def fault_stack(trained_model, tmp_path_factory) -> FaultStack:  # noqa: F811 (the fixture imported above)
    from core.settings import Settings
    from reference_services.cli import init_database

    workdir = tmp_path_factory.mktemp("faults")
    ports = {name: free_port() for name in ("policy", "claims", "proxy", "actions", "rasa")}
    python = str(VENV_BIN / "python")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{workdir / 'oyat.db'}",
        "SERVICES_API_TOKEN": TEST_SERVICES_API_TOKEN,
        "DOCUMENT_LINK_SECRET": TEST_DOCUMENT_LINK_SECRET,
        "DOCUMENTS_PUBLIC_URL": f"http://127.0.0.1:{ports['policy']}",
        "UPLOADS_DIR": str(workdir / "uploads"),
        "POLICY_SERVICE_URL": f"http://127.0.0.1:{ports['policy']}",
        "CLAIMS_SERVICE_URL": f"http://127.0.0.1:{ports['proxy']}",
        "SERVICES_TIMEOUT_SECONDS": str(SERVICES_TIMEOUT_SECONDS),
        "ESPACE_CLIENT_JWT_SECRET": JWT_SECRET,
        "IDENTITY_ASSERTION_SECRET": TEST_IDENTITY_ASSERTION_SECRET,
        "CHANNEL_ASSERTION_SECRET": TEST_CHANNEL_ASSERTION_SECRET,
        "ACTION_SERVER_TOKEN": "fault-action-server-token",
        "CLAIM_OUTBOX_URL": f"sqlite:///{workdir / 'claim_outbox.db'}",
        "CLAIM_OUTBOX_POLL_SECONDS": "0.5",
        "CLAIM_OUTBOX_RETRY_SECONDS": "1",
        "ACTION_SERVER_TIMEOUT_SECONDS": "20",
    }
    init_database(Settings.from_env(env))
    endpoints, credentials = workdir / "endpoints.yml", workdir / "credentials.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{ports["actions"]}/webhook"\n'
        '  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n'
        f'tracker_store:\n  type: bot.tracker_store.MaskingSQLTrackerStore\n'
        f'  dialect: "sqlite"\n  db: "{workdir / "conversations.db"}"\n')
    credentials.write_text("connectors.rest.GuardedRestInput:\n")
    stack = FaultStack(
        workdir, env, ports,
        commands={
            "policy": [python, "-m", "reference_services.cli", "serve", "--service", "policy", "--port", str(ports["policy"])],
            "claims": [python, "-m", "reference_services.cli", "serve", "--service", "claims", "--port", str(ports["claims"])],
            "proxy": [python, "-m", "tests.faults.slow_proxy", "--port", str(ports["proxy"]),
                      "--target", f"http://127.0.0.1:{ports['claims']}"],
            "actions": [python, "-m", "actions.server", "--actions", "actions", "--port", str(ports["actions"]),
                        "--logging-config_file", str(ROOT / "logging.yml")],
            "outbox": [python, "-m", "actions.claim_outbox"],
            "rasa": [str(VENV_BIN / "rasa"), "run", "--model", str(trained_model), "--endpoints", str(endpoints),
                     "--credentials", str(credentials), "--port", str(ports["rasa"]),
                     "--enable-api", "--auth-token=fault-api-token"],
        },
        health={
            "policy": f"http://127.0.0.1:{ports['policy']}/health",
            "claims": f"http://127.0.0.1:{ports['claims']}/health",
            "proxy": f"http://127.0.0.1:{ports['proxy']}/__delay__",
            "actions": f"http://127.0.0.1:{ports['actions']}/health",
            "outbox": f"http://127.0.0.1:{ports['policy']}/health",  # nothing to ask it: started is enough
            "rasa": f"http://127.0.0.1:{ports['rasa']}/",
        },
    )
    try:
        for name in ("policy", "claims", "proxy", "actions", "outbox", "rasa"):
            stack.start(name)
        yield stack
    finally:
        for name in list(stack.processes):
            stack.stop(name)
