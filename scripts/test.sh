#!/usr/bin/env bash
# Runs every test, after the lint gate (ruff, rules in pyproject.toml). The model
# is trained once (only if the data changed) and the
# same model is reused by every test that needs it.
set -euo pipefail
mkdir -p var models test-results
.venv/bin/ruff check .
export OYAT_MODEL
OYAT_MODEL=$(bash scripts/train.sh)
exec .venv/bin/python -m pytest "$@"
