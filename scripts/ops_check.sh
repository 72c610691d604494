#!/usr/bin/env bash
# Offline checks of the deployment files, for `make ops-check` and .ci/run:
# Kubernetes manifests against the Kubernetes schemas and the hardening they promise,
# the compose file as Docker renders it, its volumes against the Dockerfile and its
# published ports (this machine only), the commands both run, and a lint of the Dockerfile. No cluster or Docker engine needed.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
KUBERNETES_VERSION=${KUBERNETES_VERSION:-1.30.0}

echo "== k8s/: kubernetes-validate --strict against Kubernetes $KUBERNETES_VERSION"
"$BIN/kubernetes-validate" --strict --quiet -k "$KUBERNETES_VERSION" k8s/*.yaml
echo "ok"

echo "== k8s/: hardening (service-account tokens, NetworkPolicy, PodDisruptionBudget, forwarded IPs)"
"$BIN/python" scripts/check_k8s_policies.py k8s/*.yaml

echo "== docker-compose.yml: rendered as Docker would, then its volumes against the Dockerfile"
rendered=$(mktemp --suffix=.yml)
trap 'rm -f "$rendered"' EXIT
if docker compose version >/dev/null 2>&1; then
    docker compose -f docker-compose.yml config >"$rendered" && echo "docker compose config: ok"
elif command -v docker-compose >/dev/null 2>&1; then
    docker-compose -f docker-compose.yml config >"$rendered" && echo "docker-compose config: ok"
else
    echo "docker compose is not installed here: the volume check reads the file as it is"
    cp docker-compose.yml "$rendered"
fi
"$BIN/python" scripts/check_volumes.py "$rendered" Dockerfile

echo "== docker-compose.yml: nothing published on every interface by default"
"$BIN/python" scripts/check_compose_ports.py "$rendered" docker-compose.expose.yml

echo "== commands run by docker-compose.yml and k8s/"
"$BIN/python" scripts/check_deploy_commands.py docker-compose.yml k8s/*.yaml

echo "== Dockerfile: hadolint"
if [ -x "$BIN/hadolint" ]; then
    "$BIN/hadolint" Dockerfile && echo "ok"
elif command -v hadolint >/dev/null 2>&1; then
    hadolint Dockerfile && echo "ok"
else
    echo "hadolint is not installed here: skipped"
fi
