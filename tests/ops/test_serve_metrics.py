"""`manage.py serve_metrics` as a container runs it: PID 1 of its own, stopped by SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_serve_metrics_stops_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "SQLITE_PATH": str(tmp_path / "unused.sqlite3"),
        "METRICS_TOKEN": "sidecar-test-token",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve_metrics", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The command prints the port it bound once it serves (no other server can answer).
        first_line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", first_line)
        assert match, (first_line, proc.poll())
        base = f"http://127.0.0.1:{match.group(1)}"
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
        assert requests.get(f"{base}/metrics", timeout=10).status_code == 401
        authorized = {"Authorization": "Bearer sidecar-test-token"}
        assert requests.get(f"{base}/metrics", headers=authorized, timeout=10).status_code == 200
        proc.send_signal(signal.SIGTERM)
        # A bound, not a measurement: without the handler it would never exit by itself.
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Stopped serving worker metrics" in out


@pytest.mark.parametrize("database", [False, True])
def test_the_web_sidecar_adds_the_database_gauges(tmp_path, database):
    """--database: what the web's /metrics answers, on a port of the sidecar's own."""
    env = {
        **os.environ,
        "DEBUG": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "SQLITE_PATH": str(tmp_path / "unmigrated.sqlite3"),
        "METRICS_TOKEN": "",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "manage.py", "serve_metrics", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        command + (["--database"] if database else []),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        match = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", proc.stdout.readline())
        assert match, proc.poll()
        body = requests.get(f"http://127.0.0.1:{match.group(1)}/metrics", timeout=10).text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    # An unmigrated database: the gauge says it is not there, and the scrape still answers.
    assert ("herald_database_up 0.0" in body) is database
