"""A whole stack logging JSON (LOG_FORMAT=json): the services, the action server, the Rasa
server (advisers' hours at any time, so that a hand-off is filed) and the web site, each
on its own port, as the tests of metrics, logs and readiness observe it."""
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from harness.servers import free_port, start, stop, wait_until_up
from tests.conftest import TEST_ADVISER_CONSOLE_TOKEN, TEST_ESPACE_CLIENT_JWT_SECRET, RunningServices, running_services
from tests.dialogue import conftest as dialogue
from tests.dialogue.conftest import OPEN_OFFICE_HOURS, RasaStack, running_rasa_stack

# The dialogue tests' model and fake messaging platform (the same session fixtures).
trained_model = dialogue.trained_model
messaging_platform = dialogue.messaging_platform

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class OperatedStack:
    services: RunningServices
    rasa: RasaStack
    web_url: str
    web_log: Path

    @property
    def rasa_log(self) -> Path:
        return self.rasa.logs[0]

    @property
    def actions_log(self) -> Path:
        return self.rasa.logs[1]


@pytest.fixture(scope="session")
def operated_stack(trained_model, tmp_path_factory, messaging_platform) -> Iterator[OperatedStack]:
    workdir = tmp_path_factory.mktemp("operated")
    with running_services(workdir, f"sqlite:///{workdir / 'oyat.db'}", {"LOG_FORMAT": "json"}) as services:
        # The action server and the Rasa server take the services' environment: LOG_FORMAT too.
        with running_rasa_stack(services, trained_model, workdir, messaging_platform, OPEN_OFFICE_HOURS) as rasa:
            web_port, web_log = free_port(), workdir / "web.log"
            web = start([sys.executable, "-m", "web.site", "--host", "127.0.0.1", "--port", str(web_port)],
                        cwd=ROOT, log_path=web_log, env={
                            **os.environ, "PYTHONPATH": str(ROOT), "LOG_FORMAT": "json",
                            "ESPACE_CLIENT_JWT_SECRET": TEST_ESPACE_CLIENT_JWT_SECRET,
                            "ADVISER_CONSOLE_TOKEN": TEST_ADVISER_CONSOLE_TOKEN,
                            "POLICY_SERVICE_URL": services.base_url, "RASA_SERVER_URL": rasa.url})
            try:
                wait_until_up(f"http://127.0.0.1:{web_port}/ready", web, 60, web_log)
                yield OperatedStack(services, rasa, f"http://127.0.0.1:{web_port}", web_log)
            finally:
                stop(web)
