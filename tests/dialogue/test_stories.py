"""Rasa test stories (tests/stories) pass with the trained model, NLU included."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_test_stories_are_predicted_without_error(trained_model, tmp_path):
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"), "test", "core", "--model", str(trained_model),
            "--stories", str(ROOT / "tests" / "stories"), "--out", str(tmp_path),
            "--fail-on-prediction-errors", "--no-plot",
        ],
        cwd=ROOT, capture_output=True, text=True,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details[-6000:] + result.stdout[-3000:] + result.stderr[-3000:]
