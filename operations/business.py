"""`python -m operations.cli analytics | training ...`: the business's figures and the
review of misunderstood messages (operations/analytics.py, operations/training_review.py).

- `analytics [--out FILE] [--since DAY] [--until DAY] [--no-publish]`: the figures per day
  and channel as CSV (stdout, or FILE), then, unless --no-publish, the figures and the new
  messages to review stored in the services' database, where the console shows them
  (« Statistiques », « À revoir »);
- `training export [--out FILE]`: the reviewed messages as NLU YAML (default
  data/nlu/reviewed.yml, to propose by pull request).
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Optional, TextIO

from sqlalchemy.orm import Session

from bot.conversations import tracker_store_url
from core.clock import now_utc
from core.db import create_sync_engine
from core.domain_intents import domain_intents
from core.settings import OperationsSettings
from operations import analytics, training_review
from reference_services.training.models import StatisticsSnapshot

ROOT = training_review.ROOT
DEFAULT_EXPORT = ROOT / "data" / "nlu" / "reviewed.yml"


def add_commands(commands: argparse._SubParsersAction, endpoints_default: str) -> None:
    stats = commands.add_parser("analytics", help="figures per day and channel (CSV); stored for the console")
    stats.add_argument("--endpoints", default=endpoints_default,
                       help="where the Rasa tracker store is configured (default: $RASA_ENDPOINTS or endpoints.yml)")
    stats.add_argument("--conversations-url", help="the conversation database, instead of the one of --endpoints")
    stats.add_argument("--out", help="write the CSV to this file instead of the standard output")
    stats.add_argument("--since", type=date.fromisoformat, help="first day (YYYY-MM-DD, Paris)")
    stats.add_argument("--until", type=date.fromisoformat, help="last day (YYYY-MM-DD, Paris)")
    stats.add_argument("--no-publish", action="store_true",
                       help="only the CSV: store neither the figures nor the messages to review")
    training = commands.add_parser("training", help="reviewed messages back into the training data")
    actions = training.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="the reviewed messages as NLU YAML")
    export.add_argument("--out", default=str(DEFAULT_EXPORT), help=f"default: {DEFAULT_EXPORT.relative_to(ROOT)}")


def run(settings: Optional[OperationsSettings], args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    out = out or sys.stdout
    if args.command == "analytics":
        return _analytics(settings, args, out)
    return _export(settings, args, out)


def _analytics(settings: Optional[OperationsSettings], args: argparse.Namespace, out: TextIO) -> int:
    url = args.conversations_url or tracker_store_url(Path(args.endpoints))
    found = analytics.conversations(analytics.stored_events(url))
    figures = analytics.figures(found, args.since, args.until)
    table = analytics.to_csv(figures)
    if args.out:
        Path(args.out).write_text(table, encoding="utf-8")
    else:
        out.write(table)
    if args.no_publish or settings is None:
        return 0
    hesitations = training_review.hesitations(analytics.stored_events(url), training_review.fallback_threshold())
    engine = create_sync_engine(settings)
    try:
        with Session(engine, future=True) as session:
            now = now_utc()
            session.add(StatisticsSnapshot(computed_at=now, figures=json.dumps(figures.as_json())))
            added = training_review.publish(session, hesitations, now)
            session.commit()
    finally:
        engine.dispose()
    print(f"operations.cli: figures stored for the console; {added} new message(s) to review", file=sys.stderr)
    return 0


def _export(settings: OperationsSettings, args: argparse.Namespace, out: TextIO) -> int:
    engine = create_sync_engine(settings)
    try:
        with Session(engine, future=True) as session:
            result = training_review.export(
                session, Path(args.out), heldout=sorted((ROOT / "tests" / "nlu").glob("*.yml")),
                training=[p for p in sorted((ROOT / "data" / "nlu").glob("*.yml")) if p.resolve() != Path(args.out).resolve()],
                intents=domain_intents())
    finally:
        engine.dispose()
    out.write(json.dumps({"file": str(args.out), **result}, ensure_ascii=False) + "\n")
    return 0
