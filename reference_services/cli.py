"""Command line of the services: `python -m reference_services.cli init-db | serve | outbox | alerts | claims`."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence, TextIO

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import isoformat_paris
from core.db import create_sync_engine, ensure_sqlite_directory
from core.logs import use_log_format
from core.masking import MaskingLogFilter
from core.settings import Settings, SettingsError
from reference_services.demo_data import load_demo_advisers, load_demo_data
from reference_services.policy.models import Customer, OutboxMessage

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
    production: `demo_data=False`), and the demo advisers with ADVISER_DEMO_PASSWORD.

    Returns whether the demo customers were loaded; running it again changes nothing
    but the demo advisers' password, set to the current ADVISER_DEMO_PASSWORD.
    """
    run_migrations(settings)
    if not demo_data:
        return False
    engine = create_sync_engine(settings)
    try:
        with Session(engine, future=True) as session, session.begin():
            # Each run: the demo advisers get the password of the environment now.
            load_demo_advisers(session, settings.adviser_demo_password)
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
    from reference_services.app import create_app  # sanic is only needed to serve

    if "policy" in SERVICE_CHOICES[service] and not settings.channel_assertion_secret:
        raise SettingsError("CHANNEL_ASSERTION_SECRET is missing: set it to a long random string "
                            "(the Rasa servers and the policy service only)")
    app = create_app(SERVICE_CHOICES[service], settings)
    # Masked, in LOG_FORMAT (core/logs.py): ours, alembic's and sanic's handlers.
    use_log_format(settings.log_format, service if service in ("policy", "claims") else "services",
                   loggers=("reference_services", "__main__", "alembic", "sanic.root", "sanic.error", "sanic.access"))
    logger.info("starting %s service(s) on http://%s:%d", service, host, port)
    if "policy" in SERVICE_CHOICES[service] and not settings.espace_client_jwt_secret:
        logger.warning("ESPACE_CLIENT_JWT_SECRET is not set: every espace-client session token is refused")
    app.run(host=host, port=port, workers=1, access_log=access_log, motd=False)


def configure_logging() -> None:
    """Our loggers and alembic's on stderr; sanic configures its own."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingLogFilter())
    for name in ("reference_services", "__main__", "alembic"):
        named = logging.getLogger(name)
        named.addHandler(handler)
        named.setLevel(logging.INFO)
        named.propagate = False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reference_services.cli", description=__doc__)
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
    # C: alerts (issue 18)
    alerts_parser = commands.add_parser("alerts", help="the reminders of the alerts customers set")
    alerts_commands = alerts_parser.add_subparsers(dest="alerts_command", required=True)
    run_parser = alerts_commands.add_parser("run", help="send the reminders due now (each once)")
    run_parser.add_argument("--now", help="ISO moment to run at (Paris time unless given), default now")
    unpaid_parser = alerts_commands.add_parser("unpaid", help="record a premium not received")
    unpaid_parser.add_argument("contract_number")
    unpaid_parser.add_argument("--amount-cents", type=int, required=True)
    unpaid_parser.add_argument("--due", required=True, help="YYYY-MM-DD")
    # D: the back-office moves a claim (issue 15)
    claims_parser = commands.add_parser("claims", help="the back-office's changes of a claim")
    claims_commands = claims_parser.add_subparsers(dest="claims_command", required=True)
    advance_parser = claims_commands.add_parser(
        "advance", help="move a claim: phase, expert's visit, indemnity, closing (the customer "
                        "is told where they agreed to be)")
    advance_parser.add_argument("claim_number", help="e.g. SIN-2026-000731")
    advance_parser.add_argument("--phase", help="declaration, ouverture, expertise, indemnisation or cloture")
    advance_parser.add_argument("--expert-visit", help="the expert's visit, Paris time, e.g. 2026-12-10T14:00")
    advance_parser.add_argument("--paid", help="the indemnity paid in all so far, in euros, e.g. 412")
    advance_parser.add_argument("--closed", action="store_true", help="close the claim")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"reference_services.cli: cannot start: {error}", file=sys.stderr)
        return 2
    if args.command == "init-db":
        loaded = init_database(settings, demo_data=not args.without_demo_data)
        print("database ready; demo data " + ("loaded" if loaded else
                                              "left out" if args.without_demo_data else "already present"))
    elif args.command == "serve":
        try:
            serve(settings, args.service, args.host, args.port, args.access_log)
        except SettingsError as error:
            print(f"reference_services.cli: cannot start: {error}", file=sys.stderr)
            return 2
    elif args.command == "outbox":
        print_outbox(settings, args.recipient)
    elif args.command == "alerts":
        from datetime import date

        from reference_services.policy import alerts

        if args.alerts_command == "run":
            alerts.run_command(settings, alerts.parse_now(args.now), sys.stdout)
        else:
            alerts.record_unpaid_command(settings, args.contract_number, args.amount_cents,
                                         date.fromisoformat(args.due), sys.stdout)
    elif args.command == "claims":
        from reference_services.claims import advance

        try:
            change = advance.Advance(
                phase=args.phase,
                expert_visit=advance.parse_visit(args.expert_visit) if args.expert_visit else None,
                paid_cents=advance.parse_euros(args.paid) if args.paid else None,
                closed=args.closed,
            )
            for line in advance.advance_command(settings, args.claim_number, change):
                print(line)
        except advance.AdvanceRefused as refusal:
            print(f"reference_services.cli claims advance: {refusal}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
