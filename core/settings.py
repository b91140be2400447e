"""Every environment variable the product reads, declared once (name, default, meaning,
parser), and one typed settings object per process that reads only what that process needs.

Each process builds its object at start (`at_start`): a missing secret or a value that does
not read stops it there, with one line naming the variable and exit code 2. Code that Rasa
or rasa-sdk builds itself (channels, the action endpoint, the services client) reads its
variables through `read`, the same declarations, the same parsers. `.env` is read when present
(variables already in the environment win). The README's table of variables and
deploy/oyat.env.example are checked against `VARIABLES` by tests."""
from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Type, TypeVar
from urllib.parse import urlsplit

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
# Identity assertions (core/identity_assertion.py): an hour of a conversation; a claim
# queued while the claims service was down is filed up to a week later.
DEFAULT_IDENTITY_ASSERTION_TTL_SECONDS = 3600
DEFAULT_QUEUED_CLAIM_IDENTITY_GRACE_SECONDS = 7 * 86400

# The async driver of each database the project runs on ("postgres": Heroku-style URLs).
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg2"}


class SettingsError(ValueError):
    """The environment does not allow a process to start."""


# --- parsers: a value as written -> its typed value; ValueError completes "NAME ..." ----------

def _text(raw: str) -> str:
    return raw


def _positive_int(unit: str) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValueError(f"must be a positive whole number of {unit} (got {raw!r})")
        return int(raw)
    return parse


def _positive_seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise ValueError(f"must be a positive number of seconds (got {raw!r})")
    return value


def _port(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 65536:
        raise ValueError(f"must be a port number, 1 to 65535 (got {raw!r})")
    return int(raw)


def _http_url(raw: str) -> str:
    """scheme://host[:port][/path], without its trailing slash."""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - a port that is not a number raises ValueError
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) address, e.g. https://host.example:443 (got {raw!r})")
    return raw.rstrip("/")


def _database_url(raw: str) -> str:
    try:
        backend = make_url(raw).get_backend_name()
    except Exception:  # sqlalchemy raises ArgumentError with the URL (and its password) in it
        raise ValueError("is not a valid database URL") from None
    if backend not in ASYNC_DRIVERS:
        raise ValueError("must point to SQLite or PostgreSQL")
    return raw


_RATE = re.compile(r"\s*\d+\s*/\s*[0-9.]+\s*")


def _rate(raw: str) -> str:
    """`<count>/<seconds>` (connectors.rate_limit.Limit reads it)."""
    count, _, seconds = raw.partition("/")
    try:
        valid = bool(_RATE.fullmatch(raw)) and int(count) >= 1 and 0 < float(seconds) < math.inf
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"must read <count>/<seconds>, e.g. 20/60 (got {raw!r})")
    return raw


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return raw

    return parse


def _smtp_url(raw: str) -> str:
    """smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps:// (TLS), or none.
    The value is never quoted back: it holds a password."""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - a port that is not a number raises ValueError
    except ValueError:
        parts = None
    if raw and (parts is None or parts.scheme not in ("smtp", "smtps") or not parts.hostname):
        raise ValueError("must read smtp://user:password@host:port or smtps://user:password@host:port")
    return raw


# --- the declarations ---------------------------------------------------------------------

@dataclass(frozen=True)
class Variable:
    """One environment variable: its default as written (in .env, the README; "" for none),
    what it means, and how its value reads."""

    name: str
    default: str
    meaning: str
    parse: Callable[[str], Any] = _text
    secret: bool = False  # never shown (repr, messages)

    def value(self, raw: Optional[str]) -> Any:
        """The typed value of `raw` (unset or blank: the default); ValueError otherwise."""
        return self.parse((raw or "").strip() or self.default)


VARIABLES: Dict[str, Variable] = {}


def _declare(name: str, default: Any, meaning: str, parse: Callable[[str], Any] = _text) -> None:
    assert name not in VARIABLES, f"{name} declared twice"
    VARIABLES[name] = Variable(name, str(default), meaning, parse)


def _secret(name: str, meaning: str, parse: Callable[[str], Any] = _text) -> None:
    assert name not in VARIABLES, f"{name} declared twice"
    VARIABLES[name] = Variable(name, "", meaning, parse, secret=True)


# Secrets (none by default).
_secret("SERVICES_API_TOKEN", "token between the actions (and the channels) and the services")
_secret("DOCUMENT_LINK_SECRET", "signs the expiring document links")
_secret("IDENTITY_ASSERTION_SECRET", "signs the identity assertions (the two services only)")
_secret("ESPACE_CLIENT_JWT_SECRET", "secret of the espace-client session tokens (JWT HS256)")
_secret("CHANNEL_ASSERTION_SECRET", "the telephone line signs the caller's number with it")
_secret("RASA_API_TOKEN", "token of Rasa's HTTP API (passed as rasa run --auth-token)")
_secret("ACTION_SERVER_TOKEN", "what the Rasa server sends the action server")
_secret("IVR_GATEWAY_TOKEN", "bearer token of the voice gateway")
_secret("IVR_SIGNING_SECRET", "secret the voice gateway signs its events with (HMAC-SHA256)")
_secret("AUDIOCODES_TOKEN", "the bearer token VoiceAI Connect sends with every Bot API request")
_secret("JAMBONZ_WEBHOOK_SECRET", "the jambonz account's webhook secret (Jambonz-Signature, HMAC-SHA256)")
_secret("WHATSAPP_ACCESS_TOKEN", "WhatsApp Cloud API token")
_secret("WHATSAPP_APP_SECRET", "the app secret that signs WhatsApp webhooks")
_secret("WHATSAPP_VERIFY_TOKEN", "WhatsApp subscription token")
_secret("WHATSAPP_PHONE_NUMBER_ID", "the WhatsApp sending number")
_secret("TELEGRAM_BOT_TOKEN", "the Telegram bot's token")
_secret("TELEGRAM_SECRET_TOKEN", "the secret_token given to Telegram's setWebhook")
_secret("MESSENGER_PAGE_ACCESS_TOKEN", "the Messenger page token")
_secret("MESSENGER_APP_SECRET", "the app secret that signs Messenger webhooks")
_secret("MESSENGER_VERIFY_TOKEN", "Messenger subscription token")
_secret("ADVISER_CONSOLE_TOKEN", "what the advisers' console sends the policy service and the Rasa servers")
_secret("ADVISER_GRANT_SECRET", "the policy service signs an adviser's access to a conversation with it, "
        "the Rasa servers verify it (never the web process)")
# E (issue 15): the notifier process shows it to the services' notice routes and to the Rasa
# servers' notice route; it opens nothing else.
_secret("NOTIFIER_TOKEN", "what the notifier sends the services and the Rasa servers (claim notices)")
_secret("ADVISER_DEMO_PASSWORD", "password of the demo advisers « conseiller » and « superviseur » "
        "(init-db with the demo data; none: no demo adviser)")
# Services.
_declare("DATABASE_URL", DEFAULT_DATABASE_URL, "the services' database", _database_url)
_declare("DOCUMENTS_PUBLIC_URL", DEFAULT_DOCUMENTS_PUBLIC_URL, "where customers download documents", _http_url)
_declare("DOCUMENT_LINK_TTL_SECONDS", DEFAULT_DOCUMENT_LINK_TTL_SECONDS, "how long a document link works",
         _positive_int("seconds"))
_declare("UPLOADS_DIR", DEFAULT_UPLOADS_DIR, "where the claims service keeps the files customers send")
_declare("UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES, "largest file a customer may send",
         _positive_int("bytes"))
_declare("UNATTACHED_UPLOAD_RETENTION_HOURS", DEFAULT_UNATTACHED_UPLOAD_RETENTION_HOURS,
         "a file never attached to a claim is deleted this long after it arrived", _positive_int("hours"))
_declare("IDENTITY_ASSERTION_TTL_SECONDS", DEFAULT_IDENTITY_ASSERTION_TTL_SECONDS,
         "lifetime of an identity assertion", _positive_int("seconds"))
_declare("QUEUED_CLAIM_IDENTITY_GRACE_SECONDS", DEFAULT_QUEUED_CLAIM_IDENTITY_GRACE_SECONDS,
         "how long after its expiry an identity assertion still files the claim queued with it",
         _positive_int("seconds"))
# Actions and the claim outbox worker.
_declare("POLICY_SERVICE_URL", "http://localhost:5101", "the policy service", _http_url)
_declare("CLAIMS_SERVICE_URL", "http://localhost:5102", "the claims service", _http_url)
_declare("SERVICES_TIMEOUT_SECONDS", 5, "wait for a service answer; beyond, it counts as unavailable",
         _positive_seconds)
_declare("OFFICE_HOURS", "lun-ven 08:30-18:00, sam 09:00-12:00",
         "when advisers answer, Paris time (24/7: always); read by core.office_hours")
_declare("CLAIM_OUTBOX_URL", "sqlite:///var/claim_outbox.db",
         "claims confirmed while the claims service was down", _database_url)
_declare("CLAIM_OUTBOX_RETRY_SECONDS", 30, "first wait after a failure (doubled each time, an hour at most)",
         _positive_seconds)
_declare("CLAIM_OUTBOX_POLL_SECONDS", 5, "how often the worker looks for due claims", _positive_seconds)
# The Rasa server and its channels.
_declare("WIDGET_ALLOWED_ORIGINS", "http://localhost:8080",
         "web sites whose pages may talk to the assistant; read by connectors.guard.allowed_origins")
_declare("ACTION_SERVER_TIMEOUT_SECONDS", 30, "beyond, or when the action server is down, an apology",
         _positive_seconds)
_declare("RATE_LIMIT_PER_SENDER", "20/60", "messages at once per conversation, refilled over seconds", _rate)
_declare("RATE_LIMIT_PER_IP", "300/60", "messages at once per client address, refilled over seconds", _rate)
_declare("UPLOAD_FILES_PER_CONVERSATION", "10/86400", "files one conversation may send", _rate)
_declare("UPLOAD_MEGABYTES_PER_CONVERSATION", "30/86400", "megabytes one conversation may send", _rate)
_declare("UPLOAD_FILES_PER_ADDRESS", "30/3600", "files one client address may send", _rate)
_declare("UPLOAD_MEGABYTES_PER_ADDRESS", "100/3600", "megabytes one client address may send", _rate)
_declare("REDIS_HOST", "", "the Redis where every Rasa replica counts (none: each counts alone)")
_declare("REDIS_PORT", 6379, "port of REDIS_HOST", _port)
_declare("REDIS_PASSWORD", "", "password of REDIS_HOST (empty: none)")
_declare("IVR_DATABASE_URL", "sqlite:///var/ivr.db", "the telephone line's calls and replies given", _database_url)
_declare("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0", "WhatsApp's API base URL", _http_url)
_declare("TELEGRAM_API_URL", "https://api.telegram.org", "Telegram's API base URL", _http_url)
_declare("MESSENGER_API_URL", "https://graph.facebook.com/v21.0", "Messenger's API base URL", _http_url)
# E (issue 15): the approved WhatsApp utility template of claim notices outside the 24-hour window.
_declare("WHATSAPP_NOTICE_TEMPLATE", "suivi_sinistre",
         "the approved WhatsApp template of claim notices sent outside the 24-hour window")
_declare("WHATSAPP_NOTICE_TEMPLATE_LANGUAGE", "fr", "the language code of WHATSAPP_NOTICE_TEMPLATE")
_declare("NOTIFIER_POLL_SECONDS", 5, "how often the notifier asks the services for notices to deliver",
         _positive_seconds)
_declare("ADVISER_SESSION_IDLE_MINUTES", 30, "an adviser's session ends after this long unused",
         _positive_int("minutes"))
# A secret: its password is never shown.
_secret("SMTP_URL", "the SMTP server the services send e-mails through, smtp://user:password@host:port "
        "(none: e-mails are only recorded in the outbox)", _smtp_url)
_declare("HANDOFF_NOTIFY_EMAIL", "", "the advisers' address told of every new hand-off (none: nobody)")
# A (issue 18): the tariff's rules (reference_services/policy/tariff.py, docs/tariff.md).
_declare("TARIFF_RULES_FILE", "", "the tariff's rules file (YAML, docs/tariff.md; none: the reference "
         "tariff reference_services/policy/tariff_rules.yml)")
_declare("ADVISER_CONSOLE_URL", "http://localhost:8080/conseiller", "the advisers' console, linked from "
         "the hand-off e-mails", _http_url)
# The web site and operations.
_declare("RASA_SERVER_URL", "http://localhost:5005", "where the advisers' console reaches the Rasa servers "
         "(in production: their balancer)", _http_url)
_declare("RASA_PUBLIC_URL", "http://localhost:5005", "where the widget reaches the assistant", _http_url)
# H (issue 16): every long-running process's log lines (core/logs.py).
_declare("LOG_FORMAT", "plain", "plain log lines, or json: one JSON object per line with the turn's request_id",
         _one_of("plain", "json"))
_declare("RASA_ENDPOINTS", "endpoints.yml", "Rasa's endpoints file (where the purge finds the conversations)")
_declare("CONVERSATION_RETENTION_DAYS", 90, "retention of conversations and of the messages sent",
         _positive_int("days"))


def read(name: str, environ: Optional[Mapping[str, str]] = None) -> Any:
    """The typed value of the declared variable `name` (default: os.environ); SettingsError
    naming it when its value does not read. For code that Rasa or rasa-sdk builds itself."""
    variable = VARIABLES[name]
    try:
        return variable.value((os.environ if environ is None else environ).get(name))
    except ValueError as error:
        raise SettingsError(f"{name} {error}") from None


def default(name: str) -> Any:
    """The typed default of the declared variable `name`."""
    return VARIABLES[name].value("")


# --- one settings object per process --------------------------------------------------------

def _setting(name: str, *, required: str = "") -> Any:
    """A field holding variable `name`; `required`: the hint given when it is missing."""
    variable = VARIABLES[name]
    return field(default=variable.value(""), repr=not variable.secret,
                 metadata={"variable": name, "required": required})


ProcessSettings = TypeVar("ProcessSettings", bound="_FromEnvironment")


class _FromEnvironment:
    """`from_env` for a settings dataclass whose fields are `_setting`s."""

    @classmethod
    def variables(cls) -> Dict[str, str]:
        """Field name -> variable name, for the process's fields."""
        return {f.name: f.metadata["variable"] for f in fields(cls) if "variable" in f.metadata}

    @classmethod
    def from_env(cls: Type[ProcessSettings], environ: Optional[Mapping[str, str]] = None, *,
                 read_dotenv: bool = True) -> ProcessSettings:
        """Build settings from `environ` (default: os.environ, after loading `.env`).

        Raises SettingsError naming every missing or invalid variable.
        """
        if environ is None:
            if read_dotenv:
                load_dotenv_from_cwd()
            environ = os.environ
        values, problems = {}, []
        for each in fields(cls):
            name = each.metadata.get("variable")
            if name is None:
                continue
            raw = (environ.get(name) or "").strip()
            if not raw and each.metadata["required"]:
                problems.append(f"{name} is missing: {each.metadata['required']}")
                continue
            try:
                values[each.name] = VARIABLES[name].value(raw)
            except ValueError as error:
                problems.append(f"{name} {error}")
        if problems:
            raise SettingsError("; ".join(problems))
        return cls(**values)

    @classmethod
    def at_start(cls: Type[ProcessSettings], program: str) -> ProcessSettings:
        """The process's settings, or exit code 2 with one line naming what is wrong."""
        try:
            return cls.from_env()
        except SettingsError as error:
            print(f"{program}: cannot start: {error}", file=sys.stderr)
            raise SystemExit(2) from None


_A_LONG_RANDOM_STRING = "set it to a long random string"


@dataclass(frozen=True)
class Settings(_FromEnvironment):
    """The policy and claims services (reference_services.cli serve)."""

    database_url: str = _setting("DATABASE_URL")
    log_format: str = _setting("LOG_FORMAT")  # H: core/logs.py
    services_api_token: str = _setting("SERVICES_API_TOKEN",
                                       required="set it to the token the actions send")
    document_link_secret: str = _setting("DOCUMENT_LINK_SECRET", required=_A_LONG_RANDOM_STRING)
    documents_public_url: str = _setting("DOCUMENTS_PUBLIC_URL")
    document_link_ttl_seconds: int = _setting("DOCUMENT_LINK_TTL_SECONDS")
    uploads_dir: str = _setting("UPLOADS_DIR")
    upload_max_bytes: int = _setting("UPLOAD_MAX_BYTES")
    unattached_upload_retention_hours: int = _setting("UNATTACHED_UPLOAD_RETENTION_HOURS")
    # Signs the identity assertions; known to the two services only.
    identity_assertion_secret: str = _setting("IDENTITY_ASSERTION_SECRET",
                                              required=f"{_A_LONG_RANDOM_STRING} (the two services only)")
    identity_assertion_ttl_seconds: int = _setting("IDENTITY_ASSERTION_TTL_SECONDS")
    queued_claim_identity_grace_seconds: int = _setting("QUEUED_CLAIM_IDENTITY_GRACE_SECONDS")
    # Verifies the phone numbers the channels signed (core/channel_assertion.py): known to the
    # Rasa servers and the policy service only, required by the policy service (reference_services.cli serve).
    channel_assertion_secret: str = _setting("CHANNEL_ASSERTION_SECRET")
    # Verifies the espace-client session tokens (spec §5); none: every token is refused.
    espace_client_jwt_secret: str = _setting("ESPACE_CLIENT_JWT_SECRET")
    # The advisers' console: its token, the grants the policy service signs, sessions, e-mails.
    adviser_console_token: str = _setting("ADVISER_CONSOLE_TOKEN")
    adviser_grant_secret: str = _setting("ADVISER_GRANT_SECRET")
    adviser_demo_password: str = _setting("ADVISER_DEMO_PASSWORD")
    adviser_session_idle_minutes: int = _setting("ADVISER_SESSION_IDLE_MINUTES")
    smtp_url: str = _setting("SMTP_URL")
    handoff_notify_email: str = _setting("HANDOFF_NOTIFY_EMAIL")
    tariff_rules_file: str = _setting("TARIFF_RULES_FILE")  # A: the tariff's rules (docs/tariff.md)
    adviser_console_url: str = _setting("ADVISER_CONSOLE_URL")
    # The notifier's routes (/v1/notices/...): caller "notifier" (E declares, D uses).
    notifier_token: str = _setting("NOTIFIER_TOKEN")
    # D: the WhatsApp template the leased notices name (outside the 24-hour window).
    whatsapp_notice_template: str = _setting("WHATSAPP_NOTICE_TEMPLATE")
    whatsapp_notice_template_language: str = _setting("WHATSAPP_NOTICE_TEMPLATE_LANGUAGE")

    @property
    def async_database_url(self) -> str:
        """The URL for the application's async engine (aiosqlite / asyncpg)."""
        return _with_driver(self.database_url, ASYNC_DRIVERS)

    @property
    def sync_database_url(self) -> str:
        """The URL for alembic and the CLI (sqlite3 / psycopg2)."""
        return sync_database_url(self.database_url)


@dataclass(frozen=True)
class OperationsSettings(Settings):
    """The privacy CLI (operations.cli): the services' database and the conversations."""

    rasa_endpoints: str = _setting("RASA_ENDPOINTS")
    conversation_retention_days: int = _setting("CONVERSATION_RETENTION_DAYS")


@dataclass(frozen=True)
class ServicesClientSettings(_FromEnvironment):
    """What a client of the services needs (core.service_client.ServicesClient)."""

    policy_service_url: str = _setting("POLICY_SERVICE_URL")
    claims_service_url: str = _setting("CLAIMS_SERVICE_URL")
    services_api_token: str = _setting("SERVICES_API_TOKEN")
    services_timeout_seconds: float = _setting("SERVICES_TIMEOUT_SECONDS")
    log_format: str = _setting("LOG_FORMAT")  # H: every process that logs (core/logs.py)


@dataclass(frozen=True)
class ClaimOutboxSettings(ServicesClientSettings):
    """The claim outbox worker (actions.claim_outbox)."""

    claim_outbox_url: str = _setting("CLAIM_OUTBOX_URL")
    claim_outbox_retry_seconds: float = _setting("CLAIM_OUTBOX_RETRY_SECONDS")
    claim_outbox_poll_seconds: float = _setting("CLAIM_OUTBOX_POLL_SECONDS")


@dataclass(frozen=True)
class ActionServerSettings(ServicesClientSettings):
    """The action server (actions.server); its token is required."""

    action_server_token: str = _setting(
        "ACTION_SERVER_TOKEN", required="the action server answers only the Rasa server")
    office_hours: str = _setting("OFFICE_HOURS")
    claim_outbox_url: str = _setting("CLAIM_OUTBOX_URL")


@dataclass(frozen=True)
class RasaServerSettings(ServicesClientSettings):
    """The Rasa server and its channels (bot.rasa_server)."""

    rasa_api_token: str = _setting("RASA_API_TOKEN")
    action_server_token: str = _setting("ACTION_SERVER_TOKEN")
    widget_allowed_origins: str = _setting("WIDGET_ALLOWED_ORIGINS")
    action_server_timeout_seconds: float = _setting("ACTION_SERVER_TIMEOUT_SECONDS")
    rate_limit_per_sender: str = _setting("RATE_LIMIT_PER_SENDER")
    rate_limit_per_ip: str = _setting("RATE_LIMIT_PER_IP")
    upload_max_bytes: int = _setting("UPLOAD_MAX_BYTES")
    upload_files_per_conversation: str = _setting("UPLOAD_FILES_PER_CONVERSATION")
    upload_megabytes_per_conversation: str = _setting("UPLOAD_MEGABYTES_PER_CONVERSATION")
    upload_files_per_address: str = _setting("UPLOAD_FILES_PER_ADDRESS")
    upload_megabytes_per_address: str = _setting("UPLOAD_MEGABYTES_PER_ADDRESS")
    redis_host: str = _setting("REDIS_HOST")
    redis_port: int = _setting("REDIS_PORT")
    redis_password: str = _setting("REDIS_PASSWORD")
    channel_assertion_secret: str = _setting("CHANNEL_ASSERTION_SECRET")
    ivr_gateway_token: str = _setting("IVR_GATEWAY_TOKEN")
    ivr_signing_secret: str = _setting("IVR_SIGNING_SECRET")
    audiocodes_token: str = _setting("AUDIOCODES_TOKEN")
    jambonz_webhook_secret: str = _setting("JAMBONZ_WEBHOOK_SECRET")
    ivr_database_url: str = _setting("IVR_DATABASE_URL")
    whatsapp_access_token: str = _setting("WHATSAPP_ACCESS_TOKEN")
    whatsapp_app_secret: str = _setting("WHATSAPP_APP_SECRET")
    whatsapp_verify_token: str = _setting("WHATSAPP_VERIFY_TOKEN")
    whatsapp_phone_number_id: str = _setting("WHATSAPP_PHONE_NUMBER_ID")
    whatsapp_api_url: str = _setting("WHATSAPP_API_URL")
    telegram_bot_token: str = _setting("TELEGRAM_BOT_TOKEN")
    telegram_secret_token: str = _setting("TELEGRAM_SECRET_TOKEN")
    telegram_api_url: str = _setting("TELEGRAM_API_URL")
    messenger_page_access_token: str = _setting("MESSENGER_PAGE_ACCESS_TOKEN")
    messenger_app_secret: str = _setting("MESSENGER_APP_SECRET")
    messenger_verify_token: str = _setting("MESSENGER_VERIFY_TOKEN")
    messenger_api_url: str = _setting("MESSENGER_API_URL")
    adviser_console_token: str = _setting("ADVISER_CONSOLE_TOKEN")
    adviser_grant_secret: str = _setting("ADVISER_GRANT_SECRET")
    # Claim notices (bot/notices.py): the notifier's token, the WhatsApp template outside the window.
    notifier_token: str = _setting("NOTIFIER_TOKEN")
    whatsapp_notice_template: str = _setting("WHATSAPP_NOTICE_TEMPLATE")
    whatsapp_notice_template_language: str = _setting("WHATSAPP_NOTICE_TEMPLATE_LANGUAGE")


@dataclass(frozen=True)
class NotifierSettings(_FromEnvironment):
    """The notifier (connectors.notifier): leases the services' notices, delivers them through
    the Rasa servers; its token opens the notice routes of both, nothing else."""

    policy_service_url: str = _setting("POLICY_SERVICE_URL")  # its /v1/notices/... routes
    services_timeout_seconds: float = _setting("SERVICES_TIMEOUT_SECONDS")
    rasa_server_url: str = _setting("RASA_SERVER_URL")
    notifier_token: str = _setting("NOTIFIER_TOKEN", required="set it to the token the services and "
                                   "the Rasa servers expect from the notifier")
    notifier_poll_seconds: float = _setting("NOTIFIER_POLL_SECONDS")
    log_format: str = _setting("LOG_FORMAT")


@dataclass(frozen=True)
class WebSettings(_FromEnvironment):
    """The web site (web.site): the demo pages and the widget."""

    rasa_public_url: str = _setting("RASA_PUBLIC_URL")
    espace_client_jwt_secret: str = _setting("ESPACE_CLIENT_JWT_SECRET")
    # The advisers' console: the policy service and the Rasa servers it calls.
    rasa_server_url: str = _setting("RASA_SERVER_URL")
    office_hours: str = _setting("OFFICE_HOURS")
    policy_service_url: str = _setting("POLICY_SERVICE_URL")
    services_timeout_seconds: float = _setting("SERVICES_TIMEOUT_SECONDS")
    adviser_console_token: str = _setting("ADVISER_CONSOLE_TOKEN")
    log_format: str = _setting("LOG_FORMAT")


PROCESSES: Dict[str, Type[_FromEnvironment]] = {
    "reference_services.cli": Settings,
    "operations.cli": OperationsSettings,
    "actions.server": ActionServerSettings,
    "actions.claim_outbox": ClaimOutboxSettings,
    "connectors.notifier": NotifierSettings,
    "bot.rasa_server": RasaServerSettings,
    "web.site": WebSettings,
}


# --- helpers ------------------------------------------------------------------------------

def load_dotenv_from_cwd() -> None:
    """Read `./.env` when present; variables already in the environment win."""
    path = Path.cwd() / ".env"
    if path.is_file():
        load_dotenv(path, override=False)


def database_url_from_env() -> str:
    """DATABASE_URL alone, for tools that need no secrets (alembic's env.py)."""
    load_dotenv_from_cwd()
    return read("DATABASE_URL")


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
