"""Settings come from the environment; the services refuse to start without secrets."""
import os
import subprocess
import sys
from unittest import mock

import pytest

from bot.settings import Settings, SettingsError
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
        [sys.executable, "-m", "bot.cli", "serve", "--port", "1"],
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
        [sys.executable, "-m", "bot.cli", "serve", "--service", service, "--port", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "CHANNEL_ASSERTION_SECRET is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_channel_assertion_secret_is_read_but_not_required_by_every_process():
    """The claims service, the migrations and the purge never hold it (deploy/)."""
    assert Settings.from_env(SECRETS).channel_assertion_secret == ""
    assert Settings.from_env({**SECRETS, "CHANNEL_ASSERTION_SECRET": " signed "}).channel_assertion_secret == "signed"
