#!/usr/bin/env bash
# Starts the whole stack on localhost: policy and claims services, action server, Rasa.
# Ctrl-C stops everything (honcho forwards it to every process).
set -euo pipefail
mkdir -p var models
export OYAT_MODEL
OYAT_MODEL=$(bash scripts/train.sh)
set -a; source .env; set +a
.venv/bin/python -m reference_services.cli init-db
cat <<MSG

Oyat assistant — starting:
  Web site + widget   http://localhost:8080              (anonymous visitor)
  Espace client demo  http://localhost:8080/espace-client?client=10000001
  Console des conseillers : http://localhost:8080/conseiller — identifiant conseiller (ou superviseur),
                      mot de passe : ${ADVISER_DEMO_PASSWORD} (ADVISER_DEMO_PASSWORD de .env)
  Rasa REST channel   http://localhost:5005/webhooks/rest/webhook
  Rasa socket.io      http://localhost:5005/socket.io
  Rasa HTTP API       http://localhost:5005   (token: RASA_API_TOKEN in .env)
  Action server       http://localhost:5055/webhook   (+ the claim outbox worker)
  Notifier            claims' notices to the widget and messaging apps (claims advance: see README)
  Policy service      http://localhost:5101   (API: /v1/openapi.json)
  Claims service      http://localhost:5102   (API: /v1/openapi.json)
Talk to it in a terminal with: make chat        Stop with Ctrl-C.

MSG
exec .venv/bin/honcho start -f Procfile -e .env
