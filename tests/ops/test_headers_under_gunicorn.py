"""`curl -I` of a page under gunicorn, started as the Dockerfile does with the k8s settings:
CSP, HSTS (behind TLS), X-Frame-Options, nosniff, Referrer-Policy, Secure cookies; and
X-Forwarded-For and X-Forwarded-Proto believed from the proxy only (FORWARDED_ALLOW_IPS)."""

from __future__ import annotations

import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def _k8s_env(tmp_path: Path) -> dict[str, str]:
    sys.path.insert(0, str(Path(settings.BASE_DIR) / "scripts"))
    try:
        import check_deploy
    finally:
        sys.path.pop(0)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")},
        **check_deploy.k8s_env(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "METRICS_TOKEN": secrets.token_urlsafe(30),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "SQLITE_PATH": str(tmp_path / "herald.sqlite3"),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "HERALD_ENV_FILE": "",  # not a developer's local .env
    }
    env.pop("DATABASE_URL")  # the k8s one names a host that does not exist here
    return env


@pytest.fixture
def gunicorn(tmp_path):
    # These requests stand for the ingress's: it is the proxy here.
    with _serve({**_k8s_env(tmp_path), "FORWARDED_ALLOW_IPS": "127.0.0.1"}, tmp_path) as url:
        yield url


@contextmanager
def _serve(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**env, "PORT": str(port)}
    log = tmp_path / f"gunicorn-{port}.log"
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
        # A file, not a pipe: a full pipe would stop gunicorn mid-test.
        stderr=log.open("w"),
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
                    pytest.fail(f"gunicorn exited: {log.read_text()[-2000:]}")
                time.sleep(0.1)  # waiting for a process to listen, not for time to pass
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


# The proxy connects from this loopback address, anyone else from 127.0.0.1.
PROXY = "127.0.0.2"


class _From(requests.adapters.HTTPAdapter):
    """Connects from a chosen local address (the proxy's, or a stranger's)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _session(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", _From(address))
    return session


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """One migrated SQLite file for the servers below (the audit is read from it)."""
    directory = tmp_path_factory.mktemp("proxied")
    env = {**_k8s_env(directory), "SECURE_PROXY_SSL": "0"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return directory


def _behind_proxy(directory: Path, tls: bool):
    env = {
        **_k8s_env(directory),
        "SECURE_PROXY_SSL": "1" if tls else "0",
        "FORWARDED_ALLOW_IPS": PROXY,
        "ALLOWED_HOSTS": f"{HOST},127.0.0.1",
    }
    return _serve(env, directory)


def _failed_sign_in(
    session: requests.Session, url: str, *, forwarded_for: str, https: bool = False
) -> requests.Response:
    """A wrong password for `mara`. Cookies are sent by hand: they are Secure (DEBUG is
    off) and requests keeps those for https, while this server is reached over http."""
    headers = {"X-Forwarded-For": forwarded_for}
    if https:
        headers.update({"Host": HOST, "X-Forwarded-Proto": "https"})
    page = session.get(f"{url}/accounts/login/", headers=headers, timeout=10)
    assert page.status_code == 200, page.status_code
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    origin = f"https://{HOST}" if https else url
    return session.post(
        f"{url}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": "mara", "password": "wrong"},
        headers={
            **headers,
            "Referer": f"{origin}/accounts/login/",
            "Cookie": f"csrftoken={page.cookies['csrftoken']}",
        },
        timeout=10,
        allow_redirects=False,
    )


def _audited_addresses(directory: Path) -> list[str]:
    with sqlite3.connect(directory / "herald.sqlite3") as db:
        rows = db.execute(
            "SELECT address FROM security_auditevent WHERE kind = 'sign_in_failed' ORDER BY id"
        )
        return [address for (address,) in rows]


def test_behind_tls_a_forged_x_forwarded_proto_is_redirected_and_the_proxys_is_believed(
    migrated,
):
    with _behind_proxy(migrated, tls=True) as url:
        headers = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.9"}
        forged = _session("127.0.0.1").get(
            f"{url}/accounts/login/", headers=headers, timeout=10, allow_redirects=False
        )
        assert forged.status_code == 301
        assert forged.headers["Location"] == f"https://{HOST}/accounts/login/"
        proxied = _session(PROXY).get(
            f"{url}/accounts/login/", headers=headers, timeout=10, allow_redirects=False
        )
        assert proxied.status_code == 200
        assert "Strict-Transport-Security" in proxied.headers
        # Through the proxy a sign-in is audited with the address the proxy saw.
        before = len(_audited_addresses(migrated))
        answer = _failed_sign_in(_session(PROXY), url, forwarded_for="192.0.2.9", https=True)
        assert answer.status_code == 200
        assert _audited_addresses(migrated)[before:] == ["192.0.2.9"]


def test_a_forged_x_forwarded_for_is_ignored_and_the_audit_stores_the_real_peer(migrated):
    with _behind_proxy(migrated, tls=False) as url:
        before = len(_audited_addresses(migrated))
        office = "203.0.113.10"
        assert _failed_sign_in(_session("127.0.0.1"), url, forwarded_for=office).status_code == 200
        assert _failed_sign_in(_session(PROXY), url, forwarded_for=office).status_code == 200
        assert _audited_addresses(migrated)[before:] == ["127.0.0.1", office]


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
