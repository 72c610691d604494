"""A real web server (gunicorn, as in production) and signed-in users for the read benchmarks."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request

from bench.harness import ROOT, BenchEnv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebServer:
    """`gunicorn config.wsgi` on loopback; `workers` processes of `threads` threads."""

    def __init__(self, env: BenchEnv, *, workers: int = 1, threads: int = 1, **more: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = env.workdir / f"gunicorn-{self.port}.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        argv = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{self.port}"]
        argv += ["--workers", str(workers), "--threads", str(threads), "--timeout", "120"]
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env.env(LOG_LEVEL="WARNING", **more),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(self.url + "/accounts/login/", timeout=2)  # noqa: S310
                return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /accounts/login/")

    def worker_pids(self) -> list[int]:
        from bench.harness import children

        return children(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def manager_credentials() -> tuple[str, str]:
    """A Manager user: (API token, session cookie value) for the dashboard pages."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from security.roles import MANAGERS, assign_role, ensure_groups
    from security.tokens import issue_token

    ensure_groups()
    user, _ = get_user_model().objects.get_or_create(username="bench-manager")
    assign_role(user, MANAGERS)
    key = issue_token(user=user)  # keys are stored hashed: a new one, shown this once
    browser = Client()
    browser.force_login(user)
    from django.conf import settings

    return key, browser.cookies[settings.SESSION_COOKIE_NAME].value


def manager_sessions(token: str, session_id: str):
    """Two HTTP sessions as that Manager: (API with the token, browser with the cookie);
    proxies from the environment are ignored (everything is on loopback)."""
    import requests
    from django.conf import settings

    api = requests.Session()
    api.trust_env = False
    api.headers["Authorization"] = f"Token {token}"
    browser = requests.Session()
    browser.trust_env = False
    browser.cookies.set(settings.SESSION_COOKIE_NAME, session_id)
    return api, browser
