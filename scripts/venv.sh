#!/usr/bin/env bash
# Builds the virtualenv .venv with Python 3.10 and installs the locked dependencies.
# Called by make only when requirements.txt or constraints.txt changed.
set -euo pipefail
venv=${1:-.venv}
python=$(bash "$(dirname "$0")/python310.sh")

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  echo "==> creating $venv with $python"
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
echo "==> installing dependencies (locked in constraints.txt)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip wheel
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
"$venv/bin/python" -m pip check
