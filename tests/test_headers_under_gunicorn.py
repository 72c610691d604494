"""`curl -I` of a page under gunicorn, started as the Dockerfile does with the k8s settings:
CSP, HSTS (behind TLS), X-Frame-Options, nosniff, Referrer-Policy, Secure cookies."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.slow

HOST = "herald.example.com"  # k8s/configmap.yaml's ALLOWED_HOSTS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    sys.path.insert(0, str(Path(settings.BASE_DIR) / "scripts"))
    try:
        import check_deploy
    finally:
        sys.path.pop(0)
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")},
        **check_deploy.k8s_env(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "SQLITE_PATH": str(tmp_path / "herald.sqlite3"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "HERALD_ENV_FILE": "",  # not a developer's local .env
    }
    env.pop("DATABASE_URL")  # the k8s one names a host that does not exist here
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--config",
            "config/gunicorn.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-tmp-dir",
            str(tmp_path),
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{url}/healthz", timeout=5)
                break
            except requests.RequestException:
                if process.poll() is not None:
                    pytest.fail(f"gunicorn exited: {process.stderr.read()[-2000:]}")
                time.sleep(0.1)  # waiting for a process to listen, not for time to pass
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_page_under_gunicorn_behind_tls_has_every_security_header(gunicorn):
    response = requests.head(
        f"{gunicorn}/accounts/login/",
        headers={"Host": HOST, "X-Forwarded-Proto": "https"},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 200
    headers = response.headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Secure" in headers["Set-Cookie"] and "csrftoken=" in headers["Set-Cookie"]


def test_plain_http_is_redirected_to_https_but_probes_are_answered(gunicorn):
    response = requests.head(
        f"{gunicorn}/accounts/login/", headers={"Host": HOST}, timeout=10, allow_redirects=False
    )
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{HOST}/accounts/login/"
    probe = requests.get(f"{gunicorn}/healthz", headers={"Host": HOST}, timeout=10)
    assert probe.status_code == 200
