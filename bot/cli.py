"""Command line of the services: `python -m bot.cli init-db | serve | outbox | privacy`."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Optional, Sequence, TextIO

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import isoformat_paris
from bot.db import create_sync_engine, ensure_sqlite_directory
from bot.demo_data import load_demo_data
from bot.masking import MaskingLogFilter, mask_every_log_handler
from bot.policy.models import Customer, OutboxMessage
from bot.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SERVICE_CHOICES = {"policy": {"policy"}, "claims": {"claims"}, "all": {"policy", "claims"}}


def alembic_config(sync_url: str) -> Config:
    """An alembic configuration built in code (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an option: configparser would choke on '%' in passwords.
    config.attributes["database_url"] = sync_url
    return config


def run_migrations(settings: Settings, revision: str = "head") -> None:
    """Bring the schema to `revision`."""
    ensure_sqlite_directory(settings.sync_database_url)
    command.upgrade(alembic_config(settings.sync_database_url), revision)


def init_database(settings: Settings, demo_data: bool = True) -> bool:
    """Migrate, then load the demo data when there is no customer yet (never in
    production: `demo_data=False`).

    Returns whether the demo data was loaded; running it again changes nothing.
    """
    run_migrations(settings)
    if not demo_data:
        return False
    engine = create_sync_engine(settings)
    try:
        with Session(engine, future=True) as session, session.begin():
            count = session.execute(select(func.count()).select_from(Customer)).scalar_one()
            if count:
                return False
            load_demo_data(session)
            return True
    finally:
        engine.dispose()


def print_outbox(
    settings: Settings, recipient: Optional[str], out: Optional[TextIO] = None
) -> int:
    """Print what the services "sent", oldest first; returns how many."""
    out = out or sys.stdout
    engine = create_sync_engine(settings)
    try:
        with Session(engine, future=True) as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if recipient:
                query = query.where(OutboxMessage.recipient == recipient)
            messages = session.execute(query).scalars().all()
    finally:
        engine.dispose()
    for message in messages:
        out.write(f"--- #{message.id} {message.channel} to {message.recipient} "
                  f"at {isoformat_paris(message.created_at)}\n")
        if message.subject:
            out.write(f"Objet : {message.subject}\n")
        out.write(message.body.rstrip() + "\n\n")
    if not messages:
        out.write("(nothing sent)\n")
    return len(messages)


def serve(settings: Settings, service: str, host: str, port: int, access_log: bool) -> None:
    """Run one or both services in this process (single worker). SettingsError: the
    policy service without CHANNEL_ASSERTION_SECRET (it could identify no caller)."""
    from bot.app import create_app  # sanic is only needed to serve

    if "policy" in SERVICE_CHOICES[service] and not settings.channel_assertion_secret:
        raise SettingsError("CHANNEL_ASSERTION_SECRET is missing: set it to a long random string "
                            "(the Rasa servers and the policy service only)")
    app = create_app(SERVICE_CHOICES[service], settings)
    mask_every_log_handler(("sanic.root", "sanic.error", "sanic.access"))
    logger.info("starting %s service(s) on http://%s:%d", service, host, port)
    if "policy" in SERVICE_CHOICES[service] and not settings.espace_client_jwt_secret:
        logger.warning("ESPACE_CLIENT_JWT_SECRET is not set: every espace-client session token is refused")
    app.run(host=host, port=port, workers=1, access_log=access_log, motd=False)


def configure_logging() -> None:
    """Our loggers and alembic's on stderr; sanic configures its own."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingLogFilter())
    for name in ("bot", "__main__", "alembic"):
        named = logging.getLogger(name)
        named.addHandler(handler)
        named.setLevel(logging.INFO)
        named.propagate = False


def privacy(settings: Settings, args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Data-protection requests and retention (bot/privacy.py); prints JSON."""
    from bot.privacy import PrivacyRequests, UnknownCustomer
    from server_extensions.conversations import ConversationStore, retention_days, tracker_store_url

    out = out or sys.stdout
    url = args.conversations_url or tracker_store_url(Path(args.endpoints))
    conversations = ConversationStore(url)
    engine = create_sync_engine(settings)
    try:
        with Session(engine, future=True) as session:
            requests = PrivacyRequests(session, conversations)
            if args.action == "purge":
                result = requests.purge(args.days if args.days is not None else retention_days())
            elif args.action == "export":
                result = requests.export(args.customer_id)
            else:
                result = requests.erase(args.customer_id)
    except UnknownCustomer:
        print(f"bot.cli: no customer {args.customer_id}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
        conversations.close()
    out.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


def retention_in_days(text: str) -> int:
    """`--days` of the purge: a whole number of days, at least one, as CONVERSATION_RETENTION_DAYS.
    0 or less would delete every conversation, the ones going on included, and every
    code still waiting to be typed."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a number of days of at least 1 (got {text!r})")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    init_parser = commands.add_parser("init-db", help="migrate the database and load the demo data once")
    init_parser.add_argument("--without-demo-data", action="store_true",
                             help="migrate only (production: the demo customers must not exist there)")
    serve_parser = commands.add_parser("serve", help="run the policy and/or claims service")
    serve_parser.add_argument("--service", choices=sorted(SERVICE_CHOICES), default="all")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=5101)
    serve_parser.add_argument(
        "--access-log", action="store_true",
        help="log every request (URLs carry customer numbers: off by default)",
    )
    outbox_parser = commands.add_parser("outbox", help="print the e-mails and SMS sent")
    outbox_parser.add_argument("--recipient", help="only messages to this e-mail or phone")
    privacy_parser = commands.add_parser(
        "privacy", help="retention and data-protection requests (export, erase)")
    privacy_parser.add_argument("--endpoints", default=os.environ.get("RASA_ENDPOINTS") or "endpoints.yml",
                                help="where the Rasa tracker store is configured (default: $RASA_ENDPOINTS, "
                                     "as for the Rasa server, or endpoints.yml)")
    privacy_parser.add_argument("--conversations-url",
                                help="the conversation database, instead of the one of --endpoints")
    actions = privacy_parser.add_subparsers(dest="action", required=True)
    purge_parser = actions.add_parser(
        "purge", help="delete conversations and messages older than the retention period")
    purge_parser.add_argument("--days", type=retention_in_days,
                              help="retention in days, at least 1 (default: CONVERSATION_RETENTION_DAYS, or 90)")
    for action, text in (("export", "print everything about one customer as JSON"),
                         ("erase", "erase what the law does not require to keep about one customer")):
        actions.add_parser(action, help=text).add_argument("customer_id")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"bot.cli: cannot start: {error}", file=sys.stderr)
        return 2
    if args.command == "init-db":
        loaded = init_database(settings, demo_data=not args.without_demo_data)
        print("database ready; demo data " + ("loaded" if loaded else
                                              "left out" if args.without_demo_data else "already present"))
    elif args.command == "serve":
        try:
            serve(settings, args.service, args.host, args.port, args.access_log)
        except SettingsError as error:
            print(f"bot.cli: cannot start: {error}", file=sys.stderr)
            return 2
    elif args.command == "outbox":
        print_outbox(settings, args.recipient)
    elif args.command == "privacy":
        return privacy(settings, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
