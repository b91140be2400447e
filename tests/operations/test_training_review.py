"""Conversations back into training: the messages where the assistant hesitated are found
in the stored conversations, listed once each for review, and once reviewed in the console
come out of `make export-training` as NLU data (masked, deduplicated, never a held-out
sentence)."""
import os
import subprocess
import sys
from datetime import date

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now_utc
from core.db import create_sync_engine
from core.domain_intents import domain_intents
from core.settings import Settings
from operations import analytics, training_review
from reference_services.cli import init_database
from reference_services.training.models import TrainingReview
from tests.operations.stored_conversations import HELDOUT_SENTENCE, ROOT, store_conversations
from tests.web.conftest import ConsoleUser, new_adviser
from tests.web.conftest import console as console  # the web process, for the end-to-end test


@pytest.fixture
async def conversations_url(tmp_path):
    return await store_conversations(tmp_path / "conversations.db")


@pytest.fixture
def session(tmp_path):
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'oyat.db'}",
                                  "SERVICES_API_TOKEN": "token", "DOCUMENT_LINK_SECRET": "secret",
                                  "IDENTITY_ASSERTION_SECRET": "signing"})
    init_database(settings)
    engine = create_sync_engine(settings)
    with Session(engine, future=True) as session:
        yield session
    engine.dispose()


def found(url):
    return training_review.hesitations(analytics.stored_events(url), training_review.fallback_threshold())


def test_the_threshold_is_the_fallback_classifiers_of_config_yml():
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    expected = next(c["threshold"] for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    assert training_review.fallback_threshold() == expected


def test_hesitations_are_fallbacks_low_confidence_and_did_you_mean_masked_without_buttons(conversations_url):
    hesitations = {h.text: h for h in found(conversations_url)}
    assert {text: h.reason for text, h in hesitations.items()} == {
        "ma tortue a mange le contrat": "nlu_fallback",
        "je voudrais changer mon rib": "did_you_mean",
        "ecrivez moi a [e-mail] pour mon contrat": "low_confidence",
        HELDOUT_SENTENCE: "low_confidence",
    }
    # What the assistant would have understood without the fallback.
    assert hesitations["ma tortue a mange le contrat"].predicted_intent == "contract_info"
    assert all(h.channel == "widget" and h.day == date(2026, 12, 1) for h in hesitations.values())
    assert not any("@" in text or text.startswith("/") for text in hesitations)


def test_a_sentence_seen_again_is_one_review_counted_twice(conversations_url, session):
    assert training_review.publish(session, found(conversations_url), now_utc()) == 4
    assert training_review.publish(session, found(conversations_url), now_utc()) == 0
    session.commit()
    rows = session.scalars(select(TrainingReview)).all()
    assert len(rows) == 4 and {row.occurrences for row in rows} == {2}


def review(session, text, intent):
    row = session.scalars(select(TrainingReview).where(TrainingReview.text == text)).one()
    row.status, row.chosen_intent, row.reviewed_by = "reviewed", intent, "superviseur"


def test_export_writes_reviewed_sentences_as_nlu_data_but_held_out_trained_or_unknown_ones(
        conversations_url, session, tmp_path):
    training_review.publish(session, found(conversations_url), now_utc())
    review(session, "ma tortue a mange le contrat", "out_of_scope")
    review(session, "je voudrais changer mon rib", "change_payment_method")
    review(session, "ecrivez moi a [e-mail] pour mon contrat", "no_such_intent")
    review(session, HELDOUT_SENTENCE, "greet")
    session.commit()
    out = tmp_path / "reviewed.yml"
    result = training_review.export(
        session, out, heldout=sorted((ROOT / "tests" / "nlu").glob("*.yml")),
        training=[], intents=domain_intents())
    assert result == {"written": 2, "heldout": 1, "already_trained": 0, "unknown_intent": 1, "duplicate": 0}
    examples = {m.get("intent"): m.get("text") for m in load_data(str(out)).intent_examples}
    assert examples == {"out_of_scope": "ma tortue a mange le contrat",
                        "change_payment_method": "je voudrais changer mon rib"}

    # A sentence already in the training data is not proposed again.
    trained = tmp_path / "trained.yml"
    trained.write_text('version: "3.1"\nnlu:\n- intent: change_payment_method\n  examples: |\n'
                       "    - Je voudrais changer mon RIB\n")
    again = training_review.export(session, out, heldout=[], training=[trained],
                                   intents=domain_intents())
    assert again["already_trained"] == 1 and "rib" not in out.read_text()


def cli(database_url, *args):
    env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}, "DATABASE_URL": database_url,
           "SERVICES_API_TOKEN": "token", "DOCUMENT_LINK_SECRET": "secret", "IDENTITY_ASSERTION_SECRET": "signing"}
    return subprocess.run([sys.executable, "-m", "operations.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def test_a_message_reviewed_in_the_console_comes_out_of_export_training(conversations_url, services, console,
                                                                          tmp_path):
    stored = cli(services.database_url, "analytics", "--conversations-url", conversations_url)
    assert stored.returncode == 0, stored.stderr
    supervisor = new_adviser(services, "supervisor")
    user = ConsoleUser(console)
    user.log_in(supervisor["login"], supervisor["password"])
    page = user.get("/conseiller/a-revoir")
    assert "ma tortue a mange le contrat" in page.text
    review_id = page.text.split("ma tortue a mange le contrat")[1].split('action="/conseiller/a-revoir/')[1].split('"')[0]
    assert user.post(f"/conseiller/a-revoir/{review_id}", {"intention": "out_of_scope"}).status_code == 303

    out = tmp_path / "reviewed.yml"
    exported = cli(services.database_url, "training", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    examples = [(m.get("intent"), m.get("text")) for m in load_data(str(out)).intent_examples]
    assert ("out_of_scope", "ma tortue a mange le contrat") in examples
