#!/usr/bin/env python3
"""`manage.py check --deploy` with the settings Herald ships for production.

For each of k8s/ (configmap + secret) and docker-compose.yml (the web service with
every ${VAR:-default} at its default), this:

1. starts Django with each published placeholder (SECRET_KEY, METRICS_TOKEN) and expects
   it to be refused, in one line naming the setting;
2. replaces the placeholders with random values, as a real deployment must, and runs
   `check --deploy --fail-level WARNING`, which must find nothing.

Usage: .venv/bin/python scripts/check_deploy.py   (exit status 1 on any failure)
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
_COMPOSE_VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def k8s_env() -> dict[str, str]:
    configmap = yaml.safe_load((ROOT / "k8s" / "configmap.yaml").read_text())
    secret = yaml.safe_load((ROOT / "k8s" / "secret.yaml").read_text())
    return {**configmap["data"], **secret["stringData"]}


def compose_env() -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    environment = compose["services"]["web"]["environment"]
    # Every ${VAR:-default} at its default: what `docker compose up` uses with no .env.
    return {
        name: _COMPOSE_VAR.sub(lambda m: m.group(2) or "", str(value))
        for name, value in environment.items()
    }


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as metrics_dir:
        environ = {
            "PATH": os.environ.get("PATH", ""),
            # Only the shipped values: never a developer's local .env (DEBUG=1).
            "HERALD_ENV_FILE": "",
            **env,
            # The pods' emptyDir: settings insist that it exists.
            "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        }
        return subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
        )


# Settings whose shipped placeholders must stop the start (core/deployment.py).
PLACEHOLDERS_REFUSED = ("SECRET_KEY", "METRICS_TOKEN")


def check(name: str, env: dict[str, str]) -> list[str]:
    """The problems found with one set of shipped settings (none: it is clean)."""
    problems = []
    real = {
        **env,
        **{
            setting: secrets.token_urlsafe(50)
            for setting in PLACEHOLDERS_REFUSED
            if env.get(setting)
        },
    }
    for setting in PLACEHOLDERS_REFUSED:
        if not env.get(setting):
            continue  # not shipped with a value (compose leaves METRICS_TOKEN empty)
        refused = _manage({**real, setting: env[setting]}, "check")
        if refused.returncode == 0 or f"{setting} is a published placeholder" not in refused.stderr:
            problems.append(f"{name}: the placeholder {setting} was not refused at start")
    result = _manage(real, "check", "--deploy", "--fail-level", "WARNING")
    if result.returncode != 0:
        problems.append(f"{name}: check --deploy failed:\n{result.stdout}{result.stderr}")
    return problems


def main() -> int:
    problems = check("k8s", k8s_env()) + check("docker-compose", compose_env())
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("check --deploy: clean with the k8s and docker-compose settings")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
