"""Service settings, read once from the environment (and `.env` when present)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from dotenv import load_dotenv
from sqlalchemy.engine import URL, make_url

DEFAULT_DATABASE_URL = "sqlite:///var/oyat.db"
DEFAULT_DOCUMENTS_PUBLIC_URL = "http://localhost:5101"
DEFAULT_DOCUMENT_LINK_TTL_SECONDS = 86400
# Files attached to claims: kept outside any web root, capped in size.
DEFAULT_UPLOADS_DIR = "var/uploads"
DEFAULT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
# Files never attached to a claim (a declaration abandoned, a visitor who never
# identified) are deleted by the claims service this long after they arrived.
DEFAULT_UNATTACHED_UPLOAD_RETENTION_HOURS = 24
# Identity assertions (bot/identity_assertion.py): an hour of a conversation; a claim
# queued while the claims service was down is filed up to a week later.
DEFAULT_IDENTITY_ASSERTION_TTL_SECONDS = 3600
DEFAULT_QUEUED_CLAIM_IDENTITY_GRACE_SECONDS = 7 * 86400

# The async driver of each database the project runs on ("postgres": Heroku-style URLs).
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg2"}


class SettingsError(RuntimeError):
    """The environment does not allow the services to start."""


@dataclass(frozen=True)
class Settings:
    """Everything the services need from their environment."""

    database_url: str
    services_api_token: str
    document_link_secret: str
    documents_public_url: str = DEFAULT_DOCUMENTS_PUBLIC_URL
    document_link_ttl_seconds: int = DEFAULT_DOCUMENT_LINK_TTL_SECONDS
    uploads_dir: str = DEFAULT_UPLOADS_DIR
    upload_max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES
    unattached_upload_retention_hours: int = DEFAULT_UNATTACHED_UPLOAD_RETENTION_HOURS
    # Signs the identity assertions; known to the two services only.
    identity_assertion_secret: str = ""
    identity_assertion_ttl_seconds: int = DEFAULT_IDENTITY_ASSERTION_TTL_SECONDS
    queued_claim_identity_grace_seconds: int = DEFAULT_QUEUED_CLAIM_IDENTITY_GRACE_SECONDS
    # Verifies the phone numbers the channels signed (bot/channel_assertion.py): known to the
    # Rasa servers and the policy service only, required by the policy service (bot.cli serve).
    channel_assertion_secret: str = ""
    # Verifies the espace-client session tokens (spec §5); none: every token is refused.
    espace_client_jwt_secret: str = ""

    @property
    def async_database_url(self) -> str:
        """The URL for the application's async engine (aiosqlite / asyncpg)."""
        return _with_driver(self.database_url, ASYNC_DRIVERS)

    @property
    def sync_database_url(self) -> str:
        """The URL for alembic and the CLI (sqlite3 / psycopg2)."""
        return sync_database_url(self.database_url)

    @classmethod
    def from_env(
        cls, environ: Optional[Mapping[str, str]] = None, *, read_dotenv: bool = True
    ) -> "Settings":
        """Build settings from `environ` (default: os.environ, after loading `.env`).

        Raises SettingsError naming every missing or invalid variable.
        """
        if environ is None:
            if read_dotenv:
                load_dotenv_from_cwd()
            environ = os.environ
        problems = []
        token = environ.get("SERVICES_API_TOKEN", "").strip()
        secret = environ.get("DOCUMENT_LINK_SECRET", "").strip()
        if not token:
            problems.append("SERVICES_API_TOKEN is missing: set it to the token the actions send")
        if not secret:
            problems.append("DOCUMENT_LINK_SECRET is missing: set it to a long random string")
        assertion_secret = environ.get("IDENTITY_ASSERTION_SECRET", "").strip()
        if not assertion_secret:
            problems.append("IDENTITY_ASSERTION_SECRET is missing: set it to a long random string "
                            "(the two services only)")
        ttl = _positive_int(environ, "DOCUMENT_LINK_TTL_SECONDS", DEFAULT_DOCUMENT_LINK_TTL_SECONDS,
                            "seconds", problems)
        upload_max_bytes = _positive_int(environ, "UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES,
                                         "bytes", problems)
        unattached_retention = _positive_int(environ, "UNATTACHED_UPLOAD_RETENTION_HOURS",
                                             DEFAULT_UNATTACHED_UPLOAD_RETENTION_HOURS, "hours", problems)
        assertion_ttl = _positive_int(environ, "IDENTITY_ASSERTION_TTL_SECONDS",
                                      DEFAULT_IDENTITY_ASSERTION_TTL_SECONDS, "seconds", problems)
        filing_grace = _positive_int(environ, "QUEUED_CLAIM_IDENTITY_GRACE_SECONDS",
                                     DEFAULT_QUEUED_CLAIM_IDENTITY_GRACE_SECONDS, "seconds", problems)
        database_url = environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
        try:
            _with_driver(database_url, ASYNC_DRIVERS)
        except SettingsError as error:
            problems.append(str(error))
        if problems:
            raise SettingsError("; ".join(problems))
        public_url = environ.get("DOCUMENTS_PUBLIC_URL", "").strip() or DEFAULT_DOCUMENTS_PUBLIC_URL
        return cls(
            database_url=database_url,
            services_api_token=token,
            document_link_secret=secret,
            documents_public_url=public_url.rstrip("/"),
            document_link_ttl_seconds=ttl,
            uploads_dir=environ.get("UPLOADS_DIR", "").strip() or DEFAULT_UPLOADS_DIR,
            upload_max_bytes=upload_max_bytes,
            unattached_upload_retention_hours=unattached_retention,
            identity_assertion_secret=assertion_secret,
            identity_assertion_ttl_seconds=assertion_ttl,
            queued_claim_identity_grace_seconds=filing_grace,
            espace_client_jwt_secret=environ.get("ESPACE_CLIENT_JWT_SECRET", "").strip(),
            channel_assertion_secret=environ.get("CHANNEL_ASSERTION_SECRET", "").strip(),
        )


def _positive_int(environ: Mapping[str, str], name: str, default: int, unit: str,
                  problems: list) -> int:
    """The positive number `name` holds (its default when unset); a problem noted otherwise."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
        if value <= 0:
            raise ValueError
    except ValueError:
        problems.append(f"{name} must be a positive number of {unit}")
        return default
    return value


def load_dotenv_from_cwd() -> None:
    """Read `./.env` when present; variables already in the environment win."""
    path = Path.cwd() / ".env"
    if path.is_file():
        load_dotenv(path, override=False)


def database_url_from_env() -> str:
    """DATABASE_URL alone, for tools that need no secrets (alembic's env.py)."""
    load_dotenv_from_cwd()
    return os.environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL


def sync_database_url(database_url: str) -> str:
    """The synchronous-driver form of `database_url`."""
    return _with_driver(database_url, _SYNC_DRIVERS)


def sqlite_path(database_url: str) -> Optional[Path]:
    """The file of a SQLite URL (None for other databases or in-memory SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _with_driver(database_url: str, drivers: Mapping[str, str]) -> str:
    try:
        url: URL = make_url(database_url)
    except Exception as error:  # sqlalchemy raises ArgumentError with the URL in it
        raise SettingsError("DATABASE_URL is not a valid database URL") from error
    backend = url.get_backend_name()
    if backend == "postgres":  # Heroku-style scheme
        backend = "postgresql"
    if backend not in drivers:
        raise SettingsError("DATABASE_URL must point to SQLite or PostgreSQL")
    return url.set(drivername=drivers[backend]).render_as_string(hide_password=False)
