"""NLU quality on the held-out sets, which training never sees: short messages
(tests/nlu/heldout.yml) and long ones as customers write them (tests/nlu/narrative.yml).
The report is printed at the end of `make test` and kept in test-results/nlu/."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dialogue.test_training_data import SPEC_INTENTS

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results" / "nlu"
HELD_OUT_SETS = [ROOT / "tests" / "nlu" / "heldout.yml", ROOT / "tests" / "nlu" / "narrative.yml"]


@pytest.fixture(scope="module")
def evaluation(trained_model) -> dict:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "nlu_report.py"), "--model", str(trained_model),
         "--out", str(RESULTS), *map(str, HELD_OUT_SETS)],
        cwd=ROOT, check=True, capture_output=True,
    )
    return json.loads((RESULTS / "summary.json").read_text())


def test_the_held_out_evaluation_reports_every_intent_of_the_spec(evaluation):
    intents = json.loads((RESULTS / "heldout" / "intent_report.json").read_text())
    assert set(SPEC_INTENTS) <= set(intents)
    for summary in evaluation.values():
        assert 0 <= summary["intent_accuracy"] <= 1 and summary["entities"]
        assert 0 <= summary["right_first"] <= summary["right_among_first_two"] <= 1
    for held_out in HELD_OUT_SETS:
        assert (RESULTS / held_out.stem / "intent_confusion_matrix.png").stat().st_size > 0
    assert "among the first two" in (RESULTS / "summary.txt").read_text()


def test_short_messages_get_the_right_request_first(evaluation):
    assert evaluation["heldout"]["right_first"] >= 0.95


def test_long_customer_messages_get_the_right_request_first_or_second(evaluation):
    narrative = evaluation["narrative"]
    assert narrative["right_first"] >= 0.80
    assert narrative["right_among_first_two"] >= 0.92, narrative["missed_by_both"]
