"""The trained model (trained once per run by scripts/train.sh) and a running Rasa stack."""

import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator, Optional, Tuple
from zoneinfo import ZoneInfo

import pytest
import requests

from connectors.guard import conversation_id
from harness.servers import free_port, start, stop, wait_until_up
from tests.actions.helpers import JWT_SECRET
from tests.connectors.fake_platform import FakePlatformApi
from tests.reference_services.helpers import execute

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
IVR_GATEWAY_TOKEN = "test-ivr-gateway-token-0123456789"
JAMBONZ_WEBHOOK_SECRET = "test-jambonz-webhook-secret-0123456789"
AUDIOCODES_TOKEN = "test-audiocodes-bot-token-0123456789"
# The messaging apps' settings; their APIs are a local fake (fixture `messaging_platform`).
WHATSAPP_APP_SECRET = "test-whatsapp-app-secret-0123456789"
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
TELEGRAM_BOT_TOKEN = "123456789:AAE-test-bot-token"
TELEGRAM_SECRET_TOKEN = "test-telegram-secret_token-0123"
MESSENGER_APP_SECRET = "test-messenger-app-secret-0123456789"
UPLOAD_FILES_PER_CONVERSATION, UPLOAD_FILES_PER_ADDRESS = "4/86400", "6/3600"
# What the Rasa server sends the action server (endpoints.yml); the action server answers nobody else.
ACTION_SERVER_TOKEN = "test-action-server-token-0123456789"
# Advisers answer one morning a week, never the day the tests run nor the next: every
# hand-off of the stack is out of office hours (the answer customers get at night).
_DAY_NAMES = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
OFFICE_HOURS = f"{_DAY_NAMES[(datetime.now(ZoneInfo('Europe/Paris')).weekday() + 3) % 7]} 09:00-12:00"
# Advisers at any hour: the stack of fixture rasa_stack_in_office_hours.
OPEN_OFFICE_HOURS = "24/7"
# Known to the services alone: neither the action server nor the Rasa server has them.
SERVICES_ONLY_SECRETS = ("IDENTITY_ASSERTION_SECRET", "ESPACE_CLIENT_JWT_SECRET")
# Known to the Rasa server (the telephone line signs the caller's number) and the policy
# service: never to the action server, which only passes the signed number on.
CHANNEL_SECRETS = ("CHANNEL_ASSERTION_SECRET",)


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model of the current data: OYAT_MODEL from `make test`, else trained now."""
    model = os.environ.get("OYAT_MODEL")
    if not model:
        model = subprocess.run(
            ["bash", "scripts/train.sh"], cwd=ROOT, check=True, capture_output=True, text=True,
            env={**os.environ, "VENV": str(VENV_BIN.parent)},
        ).stdout.strip()
    return ROOT / model


@dataclass
class RasaStack:
    url: str
    api_token: str
    jwt_secret: str
    conversations_db: Optional[Path] = None  # the tracker store's SQLite file
    logs: Tuple[Path, ...] = ()  # the Rasa server's (debug level) and the action server's
    # The web site the Rasa server accepts browsers from (`--cors`); tests/dialogue/
    # test_widget_browser.py serves the widget's pages there.
    site_port: int = 0
    actions_url: str = ""  # the action server, which answers only the Rasa server's token
    action_server_token: str = ""

    @property
    def site_origin(self) -> str:
        return f"http://127.0.0.1:{self.site_port}"

    def say(self, sender: str, text: str, **metadata) -> list:
        answer = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()

    def tracker(self, sender: str, channel: str = "rest") -> dict:
        """The conversation of `sender` (the channel's own id: REST sender, widget session...)
        through Rasa's HTTP API."""
        answer = requests.get(
            f"{self.url}/conversations/{conversation_id(channel, sender)}/tracker",
            params={"token": self.api_token}, timeout=10,
        )
        answer.raise_for_status()
        return answer.json()


@pytest.fixture(scope="session")
def messaging_platform() -> FakePlatformApi:
    """The local stand-in for the Graph and Telegram APIs the messaging channels call."""
    api = FakePlatformApi().start()
    yield api
    api.stop()


@pytest.fixture(autouse=True)
def sms_codes_budget_of_a_new_hour(request):
    """Every test starts with the SMS-code budgets of a new hour: the services send a
    customer at most a few codes an hour from unknown devices, and the conversations of
    one test session, sharing one database, would otherwise spend Marie's budget in
    minutes (the later tests then read an old code from her phone)."""
    if "services" in request.fixturenames or "rasa_stack" in request.fixturenames:
        execute(request.getfixturevalue("services"), "DELETE FROM identification_code_budgets")
    yield


@contextmanager
def running_rasa_stack(services, trained_model: Path, workdir: Path, messaging_platform,
                       office_hours: str) -> Iterator[RasaStack]:
    """Action server and Rasa server on free ports, talking to the test services, with
    advisers answering in `office_hours` (OFFICE_HOURS)."""
    actions_port, rasa_port, site_port = free_port(), free_port(), free_port()
    jwt_secret = JWT_SECRET
    api_token = "test-rasa-api-token"
    env = {
        **{name: value for name, value in {**os.environ, **services.env}.items() if name not in SERVICES_ONLY_SECRETS},
        "POLICY_SERVICE_URL": services.base_url,
        "CLAIMS_SERVICE_URL": services.base_url,
        "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
        "OFFICE_HOURS": office_hours,
        # Files a conversation and an address may send (connectors/upload_limits.py), small
        # enough for tests/dialogue/test_widget_channel.py to go beyond in a few files.
        "UPLOAD_FILES_PER_CONVERSATION": UPLOAD_FILES_PER_CONVERSATION,
        "UPLOAD_FILES_PER_ADDRESS": UPLOAD_FILES_PER_ADDRESS,
        # The telephone line: the gateway's token, and its own call store.
        "IVR_GATEWAY_TOKEN": IVR_GATEWAY_TOKEN,
        "JAMBONZ_WEBHOOK_SECRET": JAMBONZ_WEBHOOK_SECRET,
        "AUDIOCODES_TOKEN": AUDIOCODES_TOKEN,
        "IVR_DATABASE_URL": f"sqlite:///{workdir / 'ivr.db'}",
        "CLAIM_OUTBOX_URL": f"sqlite:///{workdir / 'claim_outbox.db'}",
        # The messaging apps, talking to the fake platform API.
        "WHATSAPP_ACCESS_TOKEN": "test-whatsapp-access-token",
        "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": "test-whatsapp-verify-token",
        "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_NUMBER_ID,
        "WHATSAPP_API_URL": f"{messaging_platform.url}/v21.0",
        "TELEGRAM_BOT_TOKEN": TELEGRAM_BOT_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET_TOKEN,
        "TELEGRAM_API_URL": messaging_platform.url,
        "MESSENGER_PAGE_ACCESS_TOKEN": "test-messenger-page-access-token",
        "MESSENGER_APP_SECRET": MESSENGER_APP_SECRET,
        "MESSENGER_VERIFY_TOKEN": "test-messenger-verify-token",
        "MESSENGER_API_URL": f"{messaging_platform.url}/v21.0",
    }
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        '  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n'
        f'tracker_store:\n  type: bot.tracker_store.MaskingSQLTrackerStore\n'
        f'  dialect: "sqlite"\n  db: "{workdir / "conversations.db"}"\n'
    )
    # The project's channels, plus one that hands files to the dialogue as connectors do.
    credentials = workdir / "credentials.yml"
    credentials.write_text((ROOT / "credentials.yml").read_text() + "\ntests.dialogue.file_channel.FileTestInput:\n")
    actions_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    actions = start(
        # Debug logs, filtered as in production (logging.yml): they must carry no personal data.
        # As in the Procfile: our action server, on the loopback address.
        [str(VENV_BIN / "python"), "-m", "actions.server", "--actions", "actions", "--port", str(actions_port),
         "-vv", "--logging-config_file", str(ROOT / "logging.yml")],
        cwd=ROOT, env={name: value for name, value in env.items() if name not in CHANNEL_SECRETS},
        log_path=actions_log,
    )
    rasa = start(
        [
            # As in the Procfile: rasa with the project's model loading.
            str(VENV_BIN / "python"), "-m", "bot.rasa_server", "run",
            "--model", str(trained_model), "--endpoints", str(endpoints),
            "--credentials", str(credentials), "--port", str(rasa_port),
            "--enable-api", f"--auth-token={api_token}",
            # As in the Procfile: the widget's pages are served from another origin.
            "--cors", f"http://127.0.0.1:{site_port}",
            "--debug",
        ],
        cwd=ROOT, env=env, log_path=rasa_log,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", actions, 60, actions_log)
        wait_until_up(f"http://127.0.0.1:{rasa_port}/", rasa, 240, rasa_log)
        yield RasaStack(f"http://127.0.0.1:{rasa_port}", api_token, jwt_secret, workdir / "conversations.db",
                        (rasa_log, actions_log), site_port,
                        actions_url=f"http://127.0.0.1:{actions_port}", action_server_token=ACTION_SERVER_TOKEN)
    finally:
        stop(actions)
        stop(rasa)


@pytest.fixture(scope="session")
def rasa_stack(services, trained_model, tmp_path_factory, messaging_platform) -> RasaStack:
    """The stack out of office hours (OFFICE_HOURS is never today)."""
    with running_rasa_stack(services, trained_model, tmp_path_factory.mktemp("rasa"), messaging_platform,
                            OFFICE_HOURS) as stack:
        yield stack


@pytest.fixture(scope="session")
def rasa_stack_in_office_hours(services, trained_model, tmp_path_factory, messaging_platform) -> RasaStack:
    """A second stack, in office hours at any hour (OPEN_OFFICE_HOURS): the conversations
    handed over to an adviser."""
    with running_rasa_stack(services, trained_model, tmp_path_factory.mktemp("rasa-open"), messaging_platform,
                            OPEN_OFFICE_HOURS) as stack:
        yield stack
