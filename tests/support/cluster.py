"""Run a real django-q2 cluster (`manage.py qcluster`) against the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile

from django.conf import settings
from django.db import connection


def database_env() -> dict[str, str]:
    """Point a child process at the test database this test runs on."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"]), "DATABASE_URL": ""}
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return {"DATABASE_URL": f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"}


class Cluster(subprocess.Popen):
    """A `qcluster` process whose log goes to a file (a pipe would fill and block it)."""

    log_file: tempfile._TemporaryFileWrapper

    def log(self) -> str:
        self.log_file.flush()
        with open(self.log_file.name, encoding="utf-8", errors="replace") as f:
            return f.read()


@contextlib.contextmanager
def running_cluster(provider_url: str, **env: str):
    """A cluster sending to `provider_url`; stopped with SIGINT if still running at the end."""
    # Closed and removed when the cluster is stopped, below.
    log_file = tempfile.NamedTemporaryFile(prefix="qcluster-", suffix=".log", delete=False)  # noqa: SIM115
    proc = Cluster(
        [sys.executable, "manage.py", "qcluster"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            **database_env(),
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "PROVIDER_URL": provider_url,
            **env,
        },
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    proc.log_file = log_file
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # Any process the cluster left behind goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        log_file.close()
        os.unlink(log_file.name)
