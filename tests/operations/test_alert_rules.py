"""The alert rules shipped for Prometheus (deploy/prometheus/alerts.yml) are valid for
Prometheus's own checker and name only metrics the processes serve (core/metrics.py)."""
import os
import re
import shutil
import subprocess

import pytest

from core import metrics
from tests.conftest import REPO_ROOT

RULES = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


@pytest.mark.skipif(not os.access(PROMTOOL, os.X_OK), reason="promtool is not installed (Debian package prometheus)")
def test_promtool_accepts_the_alert_rules():
    checked = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alert_rules_name_only_metrics_the_processes_serve():
    declared = re.findall(r"(?m)^# TYPE (\S+) (\w+)", metrics.exposition()[0].decode())
    served = {name + suffix for name, kind in declared
              for suffix in ("", *(("_bucket", "_count", "_sum") if kind == "histogram" else ()))}
    named = set(re.findall(r"\boyat_[a-z_]+", RULES.read_text()))
    assert named and named <= served, named - served
