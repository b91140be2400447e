#!/usr/bin/env bash
# `make image-test`: starts every process of the image, each by its own command as the
# manifests do (user 10001, a shared var/ standing in for PostgreSQL), on the stack's
# usual ports, and talks French to it through the REST channel. Leaves nothing behind.
#
# The processes run with buildah's chroot isolation: on machines whose kernel refuses
# an OCI runtime's limits (seen here: « setrlimit RLIMIT_NPROC: Operation not
# permitted » from crun and runc alike), it needs none. Elsewhere `podman run` of the
# same image with the manifests' commands does the same.
set -euo pipefail
image=${IMAGE:-localhost/oyat-assistant:latest}
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /var/tmp/oyat-smoke.XXXXXX)
container=""
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 2
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  [ -n "$container" ] && buildah rm "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

for port in 5005 5055 5101 5102 8080; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use (make run?): stop it first" >&2; exit 1
  fi
done

# Fresh random secrets, as make run gives a new machine.
python=$(realpath "$(command -v "${PYTHON:-python3}")")
(cd "$work" && PYTHON="$python" bash "$here/scripts/dotenv.sh" >/dev/null)
mkdir -p "$work/var" "$work/logs" && chown 10001:10001 "$work/var"
container=$(buildah from --pull-never "$image")

start() {  # start <name> <command...>: one process of the image, in the background
  local process=$1; shift
  setsid buildah run --isolation chroot --user 10001:10001 -v "$work/.env:/app/.env:ro" \
    -v "$work/var:/app/var" "$container" -- sh -c 'set -a; . ./.env; set +a; exec "$@"' sh "$@" \
    >"$work/logs/$process.log" 2>&1 &
  pids+=($!)
}

echo "==> init-db"
buildah run --isolation chroot --user 10001:10001 -v "$work/.env:/app/.env:ro" -v "$work/var:/app/var" \
  "$container" -- sh -c 'set -a; . ./.env; set +a; exec python -m reference_services.cli init-db'
start policy python -m reference_services.cli serve --service policy --port 5101
start claims python -m reference_services.cli serve --service claims --port 5102
start actions python -m actions.server --actions actions --port 5055 --logging-config_file logging.yml
start claim-outbox python -m actions.claim_outbox
start notifier python -m connectors.notifier
start web python -m web.site --port 8080
start rasa sh -c 'exec python -m bot.rasa_server run --model "$OYAT_MODEL" --endpoints endpoints.yml \
  --credentials credentials.yml --port 5005 --enable-api --auth-token="$RASA_API_TOKEN" --cors http://localhost:8080'

echo "==> waiting for the Rasa server to load the model"
token=$(sed -n 's/^RASA_API_TOKEN=//p' "$work/.env")
for _ in $(seq 1 150); do
  # /status answers 409 until the model is loaded.
  curl -fsS "http://127.0.0.1:5005/status?token=$token" 2>/dev/null | grep -q model_file && break
  sleep 2
done

# The REST channel wants a sender nobody can guess (connectors/rest.py).
sender=$(cat /proc/sys/kernel/random/uuid)
answer=$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"sender\": \"$sender\", \"message\": \"bonjour, il me faut une attestation d assurance\"}" \
  http://127.0.0.1:5005/webhooks/rest/webhook || true)
page=$(curl -fsS http://127.0.0.1:8080/ || true)
echo "REST answer: $answer"
failed=0
for index in "${!pids[@]}"; do
  if ! kill -0 "${pids[$index]}" 2>/dev/null; then failed=1; fi
done
if [ "$failed" = 1 ] || ! grep -qiE 'attestation|identifi' <<<"$answer" || ! grep -qi '<html' <<<"$page"; then
  echo "FAILED: a process stopped, or no French answer, or no web page" >&2
  tail -n 15 "$work"/logs/*.log >&2
  exit 1
fi
echo "==> image-test passed: every process of $image runs, and it answers in French"
