#!/usr/bin/env bash
# Trains the dialogue model only when its inputs changed: the model is named after
# a fingerprint of config.yml, domain/, data/ and the custom NLU components, so an
# unchanged project reuses it.
# Progress goes to stderr; the model's path is printed on stdout.
set -euo pipefail
venv=${VENV:-.venv}
fingerprint=$(cat config.yml $(find domain data -type f -name '*.yml' | LC_ALL=C sort) bot/nlu/*.py | sha256sum | cut -c1-16)
model="models/oyat-$fingerprint.tar.gz"
mkdir -p models
# One training at a time (Rasa's training cache in .rasa/ is shared): a second
# caller waits, then finds the model ready.
exec 9>models/.train.lock
flock 9
if [ -f "$model" ]; then
  echo "==> model up to date: $model" >&2
else
  echo "==> training the model (data changed; a few minutes on 2 cores)" >&2
  start=$(date +%s)
  "$venv/bin/rasa" train --config config.yml --domain domain --data data \
    --out models --fixed-model-name "oyat-$fingerprint" >&2
  echo "==> trained $model in $(( $(date +%s) - start )) s" >&2
fi
echo "$model"
