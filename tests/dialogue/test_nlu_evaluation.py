"""NLU quality on the held-out examples (tests/nlu/heldout.yml), which training never
sees. A report, not a threshold: the figures are printed at the end of `make test`
and kept in test-results/nlu/."""

import json
import subprocess
import sys
from pathlib import Path

from tests.dialogue.test_training_data import SPEC_INTENTS

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results" / "nlu"


def test_the_held_out_evaluation_reports_every_intent_of_the_spec(trained_model):
    subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "test", "nlu", "--model", str(trained_model),
         "--nlu", str(ROOT / "tests" / "nlu" / "heldout.yml"), "--out", str(RESULTS)],
        cwd=ROOT, check=True, capture_output=True,
    )
    summary_path = RESULTS / "summary.json"
    report = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "nlu_report.py"), str(RESULTS), "--json", str(summary_path)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    (RESULTS / "summary.txt").write_text(report)

    intents = json.loads((RESULTS / "intent_report.json").read_text())
    assert set(SPEC_INTENTS) <= set(intents)
    summary = json.loads(summary_path.read_text())
    assert 0 <= summary["intent_accuracy"] <= 1 and summary["entities"]
    assert (RESULTS / "intent_confusion_matrix.png").stat().st_size > 0
