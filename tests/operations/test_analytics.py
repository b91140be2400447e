"""The business's figures from the stored conversations: per day and channel, as CSV
(`make stats`), and stored for the console's « Statistiques » page."""
import csv
import io
import json
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import create_sync_engine
from core.settings import Settings
from operations import analytics
from reference_services.cli import init_database
from reference_services.training.models import StatisticsSnapshot, TrainingReview
from tests.operations.stored_conversations import ROOT, store_conversations


@pytest.fixture
async def conversations_url(tmp_path):
    return await store_conversations(tmp_path / "conversations.db")


@pytest.fixture
def settings(tmp_path):
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'oyat.db'}",
                                  "SERVICES_API_TOKEN": "token", "DOCUMENT_LINK_SECRET": "secret",
                                  "IDENTITY_ASSERTION_SECRET": "signing"})
    init_database(settings)
    return settings


def stats(settings, conversations_url, *args):
    env = {"DATABASE_URL": settings.database_url, "SERVICES_API_TOKEN": "token",
           "DOCUMENT_LINK_SECRET": "secret", "IDENTITY_ASSERTION_SECRET": "signing", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "operations.cli", "analytics", "--conversations-url",
                           conversations_url, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def day_rows(table: str) -> dict:
    lines = table.split("\n\n")[0]
    return {(row["day"], row["channel"]): row for row in csv.DictReader(io.StringIO(lines))}


def test_figures_per_day_and_channel_count_containment_fallbacks_hand_offs_claims_and_attestations(conversations_url):
    result = analytics.compute(conversations_url)
    rows = {(row.day.isoformat(), row.channel): row for row in result.days}
    assert list(rows) == [("2026-11-30", "rest"), ("2026-11-30", "whatsapp"), ("2026-12-01", "widget")]
    attestation, claim, hesitations = rows.values()
    assert (attestation.conversations, attestation.containment_rate, attestation.attestations_issued) == (1, 1.0, 1)
    assert (claim.handoffs, claim.handoff_rate, claim.containment_rate, claim.claims_declared) == (1, 1.0, 0.0, 1)
    # Three of five messages not understood: a fallback, « Vouliez-vous dire », utter_default.
    assert (hesitations.customer_messages, hesitations.fallback_messages, hesitations.fallback_rate) == (5, 3, 0.6)
    assert result.top_intents[0] in {("change_payment_method", 2), ("greet", 2)}
    assert "nlu_fallback" not in dict(result.top_intents)


def test_a_period_keeps_only_its_days(conversations_url):
    result = analytics.compute(conversations_url, since=date(2026, 12, 1))
    assert [(row.day, row.channel) for row in result.days] == [(date(2026, 12, 1), "widget")]


def test_make_stats_writes_csv_and_stores_the_figures_and_the_messages_to_review(settings, conversations_url, tmp_path):
    done = stats(settings, conversations_url)
    assert done.returncode == 0, done.stderr
    rows = day_rows(done.stdout)
    assert rows[("2026-11-30", "whatsapp")]["handoff_rate"] == "1.0"
    assert rows[("2026-12-01", "widget")]["fallback_rate"] == "0.6"
    assert "intent,count" in done.stdout

    out = tmp_path / "stats.csv"
    again = stats(settings, conversations_url, "--out", str(out), "--no-publish")
    assert again.returncode == 0 and again.stdout == "" and day_rows(out.read_text()) == rows

    engine = create_sync_engine(settings)
    with Session(engine, future=True) as session:
        snapshots = session.scalars(select(StatisticsSnapshot)).all()
        assert len(snapshots) == 1  # --no-publish stored nothing
        assert json.loads(snapshots[0].figures)["days"][0]["channel"] == "rest"
        assert len(session.scalars(select(TrainingReview)).all()) == 4
    engine.dispose()
