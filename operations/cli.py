"""Operator command line: `python -m operations.cli privacy purge | export | erase`,
`analytics`, `training export` (operations/business.py).
Data-protection requests and retention over the services' database and the stored
conversations (operations/privacy.py)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence, TextIO

from sqlalchemy.orm import Session

from bot.conversations import ConversationStore, tracker_store_url
from core.db import create_sync_engine
from core.settings import OperationsSettings, SettingsError, read
from operations import business
from operations.privacy import PrivacyRequests, UnknownCustomer


def privacy(settings: OperationsSettings, args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Data-protection requests and retention (operations/privacy.py); prints JSON."""
    out = out or sys.stdout
    url = args.conversations_url or tracker_store_url(Path(args.endpoints))
    conversations = ConversationStore(url)
    engine = create_sync_engine(settings)
    try:
        with Session(engine, future=True) as session:
            requests = PrivacyRequests(session, conversations)
            if args.action == "purge":
                result = requests.purge(args.days if args.days is not None else settings.conversation_retention_days)
            elif args.action == "export":
                result = requests.export(args.customer_id)
            else:
                result = requests.erase(args.customer_id)
    except UnknownCustomer:
        print(f"operations.cli: no customer {args.customer_id}", file=sys.stderr)
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
    parser = argparse.ArgumentParser(prog="python -m operations.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    privacy_parser = commands.add_parser(
        "privacy", help="retention and data-protection requests (export, erase)")
    privacy_parser.add_argument("--endpoints", default=read("RASA_ENDPOINTS"),
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
    business.add_commands(commands, read("RASA_ENDPOINTS"))  # I: figures and training review (issue 16)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "analytics" and args.no_publish:
        return business.run(None, args)  # only the CSV: no services' database needed
    try:
        settings = OperationsSettings.from_env()
    except SettingsError as error:
        print(f"operations.cli: cannot start: {error}", file=sys.stderr)
        return 2
    if args.command in ("analytics", "training"):
        return business.run(settings, args)
    return privacy(settings, args)


if __name__ == "__main__":
    sys.exit(main())
