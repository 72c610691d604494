"""Web request metrics (django-prometheus): by view, method and status, with latency."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings

from tests.reporting.test_metrics import scrape

pytestmark = pytest.mark.django_db


def test_requests_are_counted_by_view_method_and_status(client, viewer):
    client.force_login(viewer)
    before = scrape(client)
    for _ in range(3):
        assert client.get("/api/stats/").status_code == 200
    assert client.post("/api/stats/", {}).status_code == 403  # a Viewer may not write
    after = scrape(client)

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    responses = "django_http_responses_total_by_status_view_method_total"
    assert delta(responses, status="200", view="api:stats", method="GET") == 3
    assert delta(responses, status="403", view="api:stats", method="POST") == 1
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    assert delta(latency, view="api:stats", method="GET") == 3
    by_view = "django_http_requests_total_by_view_transport_method_total"
    assert delta(by_view, view="api:stats", transport="http", method="GET") == 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthz_count(text: str) -> float:
    for line in text.splitlines():
        if (
            line.startswith("django_http_responses_total_by_status_view_method_total{")
            and 'view="healthz"' in line
            and 'status="200"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def healthz_count_by_process(metrics_dir) -> dict[str, float]:
    """The same counter as each gunicorn worker process wrote it in its own file."""
    from prometheus_client.mmap_dict import MmapedDict

    by_pid = {}
    for path in metrics_dir.glob("counter_*.db"):
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path)):
            _metric, name, labels, _help = json.loads(key)
            if (
                name == "django_http_responses_total_by_status_view_method_total"
                and labels.get("view") == "healthz"
                and labels.get("status") == "200"
                and value
            ):
                by_pid[path.stem.split("_")[-1]] = value
    return by_pid


@pytest.mark.slow
def test_gunicorn_processes_add_up_in_one_scrape(tmp_path):
    """Several gunicorn workers answer; /metrics counts every request, whichever answered."""
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "web-metrics-test-key-" + "x" * 40,
        "SQLITE_PATH": str(tmp_path / "unused.sqlite3"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_PUBLIC": "1",
        "WEB_CONCURRENCY": "3",
        "GUNICORN_THREADS": "1",
        "PORT": str(port),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-c", "config/gunicorn.py"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> requests.Response:
        return requests.get(f"{base}{path}", timeout=10)

    try:
        for _ in range(300):  # waiting for start-up, not measuring it
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            try:
                get("/healthz")
                break
            except requests.RequestException:
                time.sleep(0.1)
        before = healthz_count(get("/metrics").text)
        # Requests from several threads on new connections, until at least two worker
        # processes have answered some (which ones answer is up to the kernel).
        sent = 0
        with ThreadPoolExecutor(max_workers=6) as pool:
            while sent < 600 and len(healthz_count_by_process(metrics_dir)) < 2:
                statuses = list(pool.map(lambda _: get("/healthz").status_code, range(30)))
                assert statuses == [200] * 30
                sent += 30
        answered = healthz_count_by_process(metrics_dir)
        after = healthz_count(get("/metrics").text)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert len(answered) >= 2, answered
    # One scrape, whichever process answered it, adds up every process's count...
    assert after == sum(answered.values())
    # ...and counts every request sent (a start-up probe that timed out on a loaded
    # machine may still be counted late, hence at least).
    assert after - before >= sent
