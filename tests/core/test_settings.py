"""Settings come from the environment; the services refuse to start without secrets."""
import ast
import os
import re
import subprocess
import sys
from typing import Dict, List
from unittest import mock

import pytest

from core.settings import (
    PROCESSES,
    VARIABLES,
    ActionServerSettings,
    ClaimOutboxSettings,
    OperationsSettings,
    RasaServerSettings,
    Settings,
    SettingsError,
    WebSettings,
    read,
)
from tests.conftest import REPO_ROOT

SECRETS = {"SERVICES_API_TOKEN": "token", "DOCUMENT_LINK_SECRET": "secret", "IDENTITY_ASSERTION_SECRET": "signing"}


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_missing_secret_is_named_in_the_refusal(missing):
    environ = {name: value for name, value in SECRETS.items() if name != missing}
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(environ)


def test_defaults_apply_when_only_secrets_are_given():
    settings = Settings.from_env(SECRETS)
    assert settings.database_url == "sqlite:///var/oyat.db"
    assert settings.documents_public_url == "http://localhost:5101"
    assert settings.document_link_ttl_seconds == 86400
    assert settings.identity_assertion_ttl_seconds == 3600
    assert settings.queued_claim_identity_grace_seconds == 7 * 86400
    assert settings.espace_client_jwt_secret == ""  # every session token refused


@pytest.mark.parametrize("database_url, async_url, sync_url", [
    ("sqlite:///var/oyat.db", "sqlite+aiosqlite:///var/oyat.db", "sqlite:///var/oyat.db"),
    ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ("postgresql://oyat:p%40ss@db:5432/oyat", "postgresql+asyncpg://oyat:p%40ss@db:5432/oyat",
     "postgresql+psycopg2://oyat:p%40ss@db:5432/oyat"),
    ("postgres://oyat@db/oyat", "postgresql+asyncpg://oyat@db/oyat",
     "postgresql+psycopg2://oyat@db/oyat"),
    ("postgresql+asyncpg://oyat@db/oyat", "postgresql+asyncpg://oyat@db/oyat",
     "postgresql+psycopg2://oyat@db/oyat"),
])
def test_database_url_gets_the_driver_of_each_use(database_url, async_url, sync_url):
    settings = Settings.from_env({**SECRETS, "DATABASE_URL": database_url})
    assert (settings.async_database_url, settings.sync_database_url) == (async_url, sync_url)


@pytest.mark.parametrize("name, value", [
    ("DATABASE_URL", "mysql://oyat@db/oyat"),
    ("DATABASE_URL", "not a url"),
    ("DOCUMENT_LINK_TTL_SECONDS", "-5"),
    ("DOCUMENT_LINK_TTL_SECONDS", "a day"),
    ("IDENTITY_ASSERTION_TTL_SECONDS", "0"),
    ("QUEUED_CLAIM_IDENTITY_GRACE_SECONDS", "a week"),
])
def test_invalid_values_are_refused(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**SECRETS, name: value})


def test_dotenv_is_read_without_overriding_the_environment(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(
        "SERVICES_API_TOKEN=from-dotenv\nDOCUMENT_LINK_SECRET=from-dotenv\nIDENTITY_ASSERTION_SECRET=from-dotenv\n")
    monkeypatch.chdir(tmp_path)
    with mock.patch.dict(os.environ, {"SERVICES_API_TOKEN": "from-environment"}):
        os.environ.pop("DOCUMENT_LINK_SECRET", None)
        settings = Settings.from_env()
    assert settings.services_api_token == "from-environment"
    assert settings.document_link_secret == "from-dotenv"


def test_serve_refuses_to_start_without_service_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.update(PYTHONPATH=str(REPO_ROOT), DOCUMENT_LINK_SECRET="secret", IDENTITY_ASSERTION_SECRET="signing")
    result = subprocess.run(
        [sys.executable, "-m", "reference_services.cli", "serve", "--port", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "SERVICES_API_TOKEN is missing" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("service", ["policy", "all"])
def test_the_policy_service_refuses_to_start_without_the_channel_assertion_secret(tmp_path, service):
    """Without it no caller of the telephone line could be identified by their number."""
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and k != "CHANNEL_ASSERTION_SECRET"}
    env.update(PYTHONPATH=str(REPO_ROOT), **SECRETS)
    result = subprocess.run(
        [sys.executable, "-m", "reference_services.cli", "serve", "--service", service, "--port", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "CHANNEL_ASSERTION_SECRET is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_channel_assertion_secret_is_read_but_not_required_by_every_process():
    """The claims service, the migrations and the purge never hold it (deploy/)."""
    assert Settings.from_env(SECRETS).channel_assertion_secret == ""
    assert Settings.from_env({**SECRETS, "CHANNEL_ASSERTION_SECRET": " signed "}).channel_assertion_secret == "signed"


# --- every variable declared once, each process checking its own at start ---------------------

README = REPO_ROOT / "README.md"
PRODUCT_PACKAGES = ("actions", "bot", "connectors", "core", "reference_services", "operations", "web", "devtools")


def environment_reads(source: str) -> List[int]:
    """Lines of `source` that use os.environ or os.getenv, but to set a variable
    (bot.rasa_server hands the checked origins on to the widget's socket that way)."""
    tree = ast.parse(source)
    written = {id(target.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
               for target in node.targets if isinstance(target, ast.Subscript)}
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
            and isinstance(node.value, ast.Name) and node.value.id == "os" and id(node) not in written]


def readme_table() -> Dict[str, str]:
    """Variable -> default ("" for none), from the README's table of environment variables."""
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"`[A-Z][A-Z0-9_]*`", cells[0]):
            name = cells[0].strip("`")
            assert name not in rows, f"{name} has two rows in the README"
            rows[name] = cells[2].strip("`")
    return rows


def test_the_readme_table_lists_every_declared_variable_with_its_default():
    table = readme_table()
    assert set(table) - set(VARIABLES) == set(), "in the README's table, not declared in core/settings.py"
    assert set(VARIABLES) - set(table) == set(), "declared in core/settings.py, missing from the README's table"
    assert {name: table[name] for name in VARIABLES} == {name: v.default for name, v in VARIABLES.items()}


def test_every_declared_default_reads():
    for variable in VARIABLES.values():
        variable.value("")  # a default that does not read would stop every process


def test_every_declared_variable_is_read_by_some_process():
    read_by_a_process = {name for settings in PROCESSES.values() for name in settings.variables().values()}
    assert read_by_a_process == set(VARIABLES)


def test_no_product_module_reads_the_environment_but_the_settings():
    assert environment_reads("import os\nos.environ['A'] = os.getenv('B')\nx = os.environ.get('C')\n") == [2, 3]
    readers = []
    for package in PRODUCT_PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if path != REPO_ROOT / "core" / "settings.py":
                readers += [f"{path.relative_to(REPO_ROOT)}:{line}"
                            for line in environment_reads(path.read_text(encoding="utf-8"))]
    assert readers == [], "read the variable through core.settings (declared once there)"


def test_a_process_reads_only_its_own_variables():
    """The action server never holds the services' secrets; the web site knows where Rasa and the
    policy service are and the console's token, never a secret that signs grants or identities."""
    assert "DOCUMENT_LINK_SECRET" not in ActionServerSettings.variables().values()
    assert "IDENTITY_ASSERTION_SECRET" not in RasaServerSettings.variables().values()
    assert set(WebSettings.variables().values()) == {
        "RASA_PUBLIC_URL", "ESPACE_CLIENT_JWT_SECRET", "RASA_SERVER_URL", "POLICY_SERVICE_URL",
        "SERVICES_TIMEOUT_SECONDS", "ADVISER_CONSOLE_TOKEN", "OFFICE_HOURS", "LOG_FORMAT"}
    assert ActionServerSettings.from_env({"ACTION_SERVER_TOKEN": "t", "DOCUMENT_LINK_TTL_SECONDS": "never"})


def test_secrets_are_never_shown():
    settings = RasaServerSettings.from_env({"SERVICES_API_TOKEN": "s3cr3t", "WHATSAPP_APP_SECRET": "wh4t"})
    assert "s3cr3t" not in repr(settings) and "wh4t" not in repr(settings)
    assert settings.services_api_token == "s3cr3t"


@pytest.mark.parametrize("settings, name, value", [
    (RasaServerSettings, "REDIS_PORT", "six thousand"),
    (RasaServerSettings, "REDIS_PORT", "70000"),
    (RasaServerSettings, "ACTION_SERVER_TIMEOUT_SECONDS", "-1"),
    (RasaServerSettings, "RATE_LIMIT_PER_IP", "300 per minute"),
    (RasaServerSettings, "UPLOAD_FILES_PER_ADDRESS", "0/3600"),
    (RasaServerSettings, "IVR_DATABASE_URL", "mysql://ivr@db/ivr"),
    (RasaServerSettings, "WHATSAPP_API_URL", "graph.facebook.com"),
    (RasaServerSettings, "UPLOAD_MAX_BYTES", "10 MB"),
    (ActionServerSettings, "POLICY_SERVICE_URL", "localhost:5101"),
    (ActionServerSettings, "SERVICES_TIMEOUT_SECONDS", "nan"),
    (ActionServerSettings, "CLAIM_OUTBOX_URL", "not a url"),
    (ClaimOutboxSettings, "CLAIM_OUTBOX_RETRY_SECONDS", "0"),
    (OperationsSettings, "CONVERSATION_RETENTION_DAYS", "-90"),
    (WebSettings, "RASA_PUBLIC_URL", "ftp://assistant.example"),
])
def test_a_value_that_does_not_read_is_refused_naming_its_variable(settings, name, value):
    environ = {**SECRETS, "ACTION_SERVER_TOKEN": "t", name: value}
    with pytest.raises(SettingsError, match=name):
        settings.from_env(environ)


def test_a_blank_value_is_the_default():
    assert RasaServerSettings.from_env({"REDIS_PORT": " ", "RATE_LIMIT_PER_SENDER": ""}).redis_port == 6379
    assert read("RATE_LIMIT_PER_SENDER", {"RATE_LIMIT_PER_SENDER": ""}) == "20/60"


def test_the_upload_size_reads_the_same_for_the_services_and_the_channels():
    """Once parsed leniently by the channels (a wrong value: the default) and strictly by the
    services (a wrong value: no start); now one parser, and a wrong value stops both."""
    for settings in (Settings, RasaServerSettings):
        with pytest.raises(SettingsError, match="UPLOAD_MAX_BYTES"):
            settings.from_env({**SECRETS, "UPLOAD_MAX_BYTES": "-5"})
    with pytest.raises(SettingsError, match="UPLOAD_MAX_BYTES"):
        read("UPLOAD_MAX_BYTES", {"UPLOAD_MAX_BYTES": "0"})


# Each entry point, started with one value that does not read: exit code 2, one line naming it.
BAD_STARTS = [
    (["actions.server", "--actions", "actions", "--port", "1"], "SERVICES_TIMEOUT_SECONDS", "soon"),
    (["actions.claim_outbox", "--once"], "CLAIM_OUTBOX_POLL_SECONDS", "-5"),
    (["bot.rasa_server", "run", "--port", "1"], "ACTION_SERVER_TIMEOUT_SECONDS", "half a minute"),
    (["reference_services.cli", "serve", "--port", "1"], "DOCUMENT_LINK_TTL_SECONDS", "a day"),
    (["web.site", "--port", "1"], "RASA_PUBLIC_URL", "localhost:5005"),
    (["operations.cli", "privacy", "purge"], "CONVERSATION_RETENTION_DAYS", "-90"),
]


@pytest.mark.parametrize("command, name, value", BAD_STARTS, ids=[command[0] for command, _, _ in BAD_STARTS])
def test_each_process_refuses_to_start_with_a_value_that_does_not_read(tmp_path, command, name, value):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **SECRETS, "ACTION_SERVER_TOKEN": "t",
           "CHANNEL_ASSERTION_SECRET": "c", name: value}
    result = subprocess.run([sys.executable, "-m", *command], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    (line,) = [line for line in result.stderr.splitlines() if name in line]
    assert line.startswith(f"{command[0]}: cannot start: {name} ")
    assert "Traceback" not in result.stderr
