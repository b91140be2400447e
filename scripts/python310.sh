#!/usr/bin/env bash
# Prints the path of a working Python 3.10 interpreter (rasa 3.6 supports <= 3.10),
# looking on PATH first, then in pyenv. Exits 1 with an explanation when none is found.
set -euo pipefail

works() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

candidates=()
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)"/versions/3.10*/bin; do
    [ -x "$dir/python3.10" ] && candidates+=("$dir/python3.10")
  done
fi
for dir in "$HOME"/.pyenv/versions/3.10*/bin /usr/local/bin /usr/bin; do
  [ -x "$dir/python3.10" ] && candidates+=("$dir/python3.10")
done

for python in "${candidates[@]}"; do
  # A pyenv shim exists even when 3.10 is not selected: try it, then the real one.
  if works "$python"; then echo "$python"; exit 0; fi
done

cat >&2 <<'MSG'
Python 3.10 is required (rasa 3.6.21 supports Python <= 3.10) and none was found.
Install it, for example with pyenv:   pyenv install 3.10.13
or with your system's package manager, then run the command again.
MSG
exit 1
