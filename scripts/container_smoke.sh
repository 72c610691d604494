#!/usr/bin/env bash
# Container smoke test (.ci/run): build the image, run it the way docker-compose.yml
# does (read-only root, a tmpfs on /tmp, uid 10001, the worker's metrics on a named
# volume) against PostgreSQL on this machine, and check that:
#   - migrate runs; the web server answers /healthz and serves a static file;
#   - a worker sends a 20-message campaign to the local provider (the image's runprovider);
#   - the metrics sidecar (serve_metrics) serves what the worker recorded;
#   - every container exits within STOP_LIMIT (10) seconds of SIGTERM.
# Needs root (podman); ../shared/tools/container-build.sh (CONTAINER_BUILD) makes the
# image with podman and a stand-in base, installing podman with apt-get if missing.
# Prints the build time and each container's exit time.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-herald:local}
# ../shared/tools beside the checkout (CI), or two levels up from a worktree.
if [ -z "${CONTAINER_BUILD:-}" ]; then
    for candidate in ../shared/tools/container-build.sh ../../shared/tools/container-build.sh; do
        if [ -x "$candidate" ]; then CONTAINER_BUILD=$candidate; break; fi
    done
fi
CONTAINER_BUILD=${CONTAINER_BUILD:-../shared/tools/container-build.sh}
DB_URL_BASE=${SMOKE_DB_URL_BASE:-postgres://postgres@127.0.0.1:5432}
DB_NAME=${SMOKE_DB_NAME:-herald_smoke}
WEB_PORT=${SMOKE_WEB_PORT:-18000}
PROVIDER_PORT=${SMOKE_PROVIDER_PORT:-18001}
METRICS_PORT=${SMOKE_METRICS_PORT:-19108}
STOP_LIMIT=${STOP_LIMIT:-10}
PY=${PY:-.venv/bin/python}
NAME=herald-smoke-$$
VOLUME=$NAME-metrics
METRICS_TOKEN=smoke-metrics-token

log() { printf '\n--- %s\n' "$*"; }
fail() { SMOKE_FAILED=1; printf 'SMOKE FAIL: %s\n' "$*" >&2; exit 1; }

containers=()
cleanup() {
    local c
    for c in "${containers[@]+"${containers[@]}"}"; do
        if [ -n "${SMOKE_FAILED:-}" ]; then
            echo "=== logs of $c (last 30 lines)" >&2
            podman logs --tail 30 "$c" >&2 2>&1 || true
        fi
        podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
    done
    podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
    "$PY" - "$DB_URL_BASE" "$DB_NAME" drop <<'EOF' || true
import sys, psycopg
with psycopg.connect(f"{sys.argv[1]}/postgres", autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
EOF
}
trap 'SMOKE_FAILED=1' ERR
trap cleanup EXIT

[ -x "$CONTAINER_BUILD" ] || fail "no container build script at $CONTAINER_BUILD"

log "build $IMAGE"
# A secrets file in the build context, as operators keep herald.env for the k8s secret:
# .dockerignore must keep it (and the tests, CI and benchmarks) out of the image.
canary=smoke-canary-$$.env
echo "SECRET_KEY=must-not-be-in-the-image" >"$canary"
build_start=$(date +%s)
IMAGE=$IMAGE "$CONTAINER_BUILD" . 2>&1 | tail -n 3 || { rm -f "$canary"; fail "the build failed"; }
build_secs=$(( $(date +%s) - build_start ))
rm -f "$canary"
echo "image build: ${build_secs} s (whole container-build.sh run)"
leaked=$(podman run --rm --network host --entrypoint sh "$IMAGE" -c \
    "cd /app && ls -d $canary tests bench .ci scripts k8s Makefile docker-compose.yml .git 2>/dev/null || true")
[ -z "$leaked" ] || fail "the image holds what .dockerignore should keep out: $leaked"
echo "image content: no *.env, tests, bench, CI, scripts, k8s, Makefile or compose file"

log "fresh database $DB_NAME"
"$PY" - "$DB_URL_BASE" "$DB_NAME" <<'EOF'
import sys, psycopg
with psycopg.connect(f"{sys.argv[1]}/postgres", autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{sys.argv[2]}"')
EOF
DATABASE_URL="$DB_URL_BASE/$DB_NAME"

# As docker-compose.yml runs every service: read-only root, /tmp a tmpfs, user 10001.
common=(--network host --read-only --tmpfs /tmp --user 10001
        -e "DATABASE_URL=$DATABASE_URL" -e SECRET_KEY=container-smoke-test-secret-key-0123456789abcdef
        -e ALLOWED_HOSTS=127.0.0.1,localhost -e LOG_FORMAT=text
        -e "PROVIDER_URL=http://127.0.0.1:$PROVIDER_PORT/v1" -e PROVIDER_TOKEN=smoke-provider-token
        -e "METRICS_TOKEN=$METRICS_TOKEN" -e PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus)
metrics_volume=(-v "$VOLUME:/var/lib/herald/metrics" -e PROMETHEUS_MULTIPROC_DIR=/var/lib/herald/metrics)
start() {  # start NAME ARGS...: a detached container named $NAME-<name>
    local name=$NAME-$1
    shift
    podman run -d --name "$name" "${common[@]}" "$@" >/dev/null
    containers+=("$name")
}
wait_http() {  # wait_http URL [curl args]: until it answers 200 (60 s at most)
    local url=$1
    shift
    for _ in $(seq 1 120); do
        curl -fsS -o /dev/null "$@" "$url" 2>/dev/null && return 0
        sleep 0.5
    done
    fail "no answer from $url"
}

log "migrate (one-shot, read-only root)"
podman run --rm "${common[@]}" "$IMAGE" python manage.py migrate --no-input -v 0

log "provider, worker, web, metrics sidecar"
podman volume create "$VOLUME" >/dev/null
start provider "$IMAGE" python manage.py runprovider --host 127.0.0.1 --port "$PROVIDER_PORT"
start worker "${metrics_volume[@]}" -e ENGINE_PUMPS=1 -e Q_WORKERS=2 "$IMAGE" python manage.py qcluster
start web -e "PORT=$WEB_PORT" -e WEB_CONCURRENCY=2 "$IMAGE"
start metrics "${metrics_volume[@]}" -e CLEAR_METRICS_DIR=0 \
    "$IMAGE" python manage.py serve_metrics --host 127.0.0.1 --port "$METRICS_PORT"

wait_http "http://127.0.0.1:$WEB_PORT/healthz"
echo "web /healthz: ok"
# Not `curl | grep -q`: grep stops at the first line, curl then fails writing the rest
# (exit 23) and pipefail turns a served file into a failure (seen once in CI's run here).
static_bytes=$(curl -fsS -o /dev/null -w '%{size_download}' "http://127.0.0.1:$WEB_PORT/static/css/herald.css") \
    || fail "no static file"
[ "$static_bytes" -gt 0 ] || fail "the static file is empty"
echo "web static file: ok"
wait_http "http://127.0.0.1:$PROVIDER_PORT/_stats"
echo "provider: ok"

log "a 20-message campaign"
podman run --rm "${common[@]}" "$IMAGE" python manage.py shell -c "
from datetime import timedelta
from django.utils import timezone
from messaging import services
from messaging.models import Client
for i in range(20):
    Client.objects.create(phone=f'7916000{i:04d}', tag='smoke', timezone='Europe/Moscow')
now = timezone.now()
campaign = services.create_campaign(values={'name': 'Smoke', 'text': 'Container smoke test',
    'start_at': now - timedelta(seconds=5), 'end_at': now + timedelta(minutes=10), 'tags': ['smoke']})
print('campaign', campaign.pk)
"
sent=0
for _ in $(seq 1 120); do
    sent=$("$PY" - "$DATABASE_URL" <<'EOF'
import sys, psycopg
with psycopg.connect(sys.argv[1]) as conn:
    row = conn.execute("SELECT COALESCE(SUM(sent), 0) FROM messaging_campaigncounts").fetchone()
print(row[0])
EOF
)
    [ "$sent" = 20 ] && break
    podman container exists "$NAME-worker" && [ "$(podman inspect -f '{{.State.Running}}' "$NAME-worker")" = true ] \
        || fail "the worker stopped"
    sleep 0.5
done
[ "$sent" = 20 ] || fail "the worker sent $sent of 20 messages"
receipts=$(curl -fsS "http://127.0.0.1:$PROVIDER_PORT/_receipts" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["receipts"]))')
[ "$receipts" = 20 ] || fail "the provider has $receipts receipts, not 20"
echo "sent: 20 of 20; provider receipts: 20"

log "worker metrics through the sidecar"
metrics=$(curl -fsS -H "Authorization: Bearer $METRICS_TOKEN" "http://127.0.0.1:$METRICS_PORT/metrics")
ok_count=$(printf '%s\n' "$metrics" | sed -n 's/^herald_provider_request_seconds_count{outcome="ok"} \(.*\)$/\1/p')
[ "${ok_count%.0}" = 20 ] || fail "sidecar: herald_provider_request_seconds_count{outcome=ok} is '${ok_count}', not 20"
echo "sidecar: herald_provider_request_seconds_count{outcome=\"ok\"} $ok_count"
web_metrics=$(curl -fsS -H "Authorization: Bearer $METRICS_TOKEN" "http://127.0.0.1:$WEB_PORT/metrics")
grep -q '^django_http_responses_total_by_status_view_method_total{.*view="healthz"' <<<"$web_metrics" \
    || fail "web /metrics has no request metrics"
grep -q '^herald_messages{status="sent"} 20.0' <<<"$web_metrics" \
    || fail "web /metrics does not count 20 sent messages"
echo "web /metrics: request metrics and herald_messages{status=\"sent\"} 20"

log "SIGTERM: every container exits within $STOP_LIMIT s"
slow=()
for c in web metrics worker provider; do
    name=$NAME-$c
    t0=$(date +%s.%N)
    # podman stop sends SIGTERM, and SIGKILL only after the (longer) timeout.
    podman stop -t 60 "$name" >/dev/null
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    code=$(podman inspect -f '{{.State.ExitCode}}' "$name")
    printf '%-8s exited in %5.1f s, exit code %s\n' "$c" "$secs" "$code"
    if awk -v s="$secs" -v l="$STOP_LIMIT" 'BEGIN { exit !(s > l) }'; then slow+=("$c"); fi
done
[ "${#slow[@]}" -eq 0 ] || fail "slower than $STOP_LIMIT s to stop: ${slow[*]}"

echo
echo "container smoke test: ok (build ${build_secs} s)"
