"""Processes and databases for the benchmarks: a fresh database, the local provider, the cluster.

Everything runs on loopback. The measuring process configures Django itself (`setup_django`)
from the same environment it hands to the worker cluster, so both see one database.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# Never `test` or `*_test`: other suites use those. BENCH_PG_DB picks another name (one
# per engineer on a shared server); it is dropped and created again like `bench`.
PG_DB = os.environ.get("BENCH_PG_DB", "bench")
TOKEN = "bench-provider-token"  # noqa: S105 - the local fake provider's token


def pg_url(dbname: str = PG_DB) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


def recreate_postgres(dbname: str = PG_DB) -> None:
    """Drop and create the benchmark database (never touches any other database)."""
    drop_postgres(dbname, create=True)


def drop_postgres(dbname: str = PG_DB, *, create: bool = False) -> None:
    assert dbname == PG_DB or dbname.startswith("bench_"), dbname
    assert not dbname.startswith("test") and not dbname.endswith("_test"), dbname
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (dbname,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        if create:
            conn.execute(f'CREATE DATABASE "{dbname}"')


@contextlib.contextmanager
def refusing_connections(dbname: str, admin_url: str = PG_ADMIN_URL):
    """What a managed database's failover or restart does to `dbname`, and to no other
    database of the server: new connections are refused (ALLOW_CONNECTIONS false) and
    the open ones dropped. Connections are allowed again when the block ends."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        try:
            admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            )
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')


@dataclass
class BenchEnv:
    """The environment shared by this process and every child: database, provider, settings."""

    db: str  # "sqlite" or "postgres"
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="herald-bench-")))
    extra: dict[str, str] = field(default_factory=dict)

    def database_env(self) -> dict[str, str]:
        if self.db == "sqlite":
            return {"SQLITE_PATH": str(self.workdir / "bench.sqlite3"), "DATABASE_URL": ""}
        return {"DATABASE_URL": pg_url()}

    def env(self, **more: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "SECRET_KEY": "bench-only-secret-key",
                "DEBUG": "0",
                "PROVIDER_TOKEN": TOKEN,
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
                # One token drives every simulated user: measure the server, not the throttle.
                "API_THROTTLE_USER": "off",
                "API_THROTTLE_ANON": "off",
            }
        )
        env.update(self.database_env())
        env.update(self.extra)
        env.update(more)
        return env


def setup_django(env: BenchEnv, fresh: bool = True) -> None:
    """Configure Django in this process for `env`'s database, migrating a fresh one."""
    if fresh and env.db == "postgres":
        recreate_postgres()
    os.environ.update(env.env())
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def close_db() -> None:
    from django.db import connections

    connections.close_all()


# --------------------------------------------------------------------------- provider


class Provider:
    """The local provider as a separate process (it never shares a GIL with what is measured)."""

    def __init__(self, **config) -> None:
        from localprovider import start_subprocess

        config.setdefault("token", TOKEN)
        self.proc, self.url = start_subprocess(**config)
        self.base = self.url.removesuffix("/v1")

    def _call(self, method: str, path: str, data: dict | None = None, timeout: float = 60):
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback URL we started
            self.base + path,
            data=body,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def configure(self, **changes) -> dict:
        return self._call("POST", "/_control", changes)

    def receipts(self) -> dict:
        return self._call("GET", "/_receipts")

    def stats(self) -> dict:
        return self._call("GET", "/_stats")

    def requests(self, since: float | None = None) -> list[dict]:
        path = "/_requests" + (f"?since={since}" if since is not None else "")
        return self._call("GET", path)["requests"]

    def reset(self) -> None:
        self._call("DELETE", "/_receipts")
        self._call("DELETE", "/_stats")
        self._call("DELETE", "/_requests")

    def stop(self) -> None:
        from localprovider import stop_subprocess

        stop_subprocess(self.proc)


# --------------------------------------------------------------------------- processes


def children(pid: int) -> list[int]:
    """Every descendant of `pid` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pids: list[int]) -> bool:
    """Every one of `pids` still runs (none died, or was replaced, meanwhile)."""
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
    return True


def multiprocess_metrics(directory) -> dict[str, float]:
    """Metrics the processes wrote to a PROMETHEUS_MULTIPROC_DIR, added up, keyed by the
    sample's name and labels as Prometheus prints them: `name{label="value"}`."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    found = {}
    for family in registry.collect():
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


def status_kb(pid: int, key: str) -> int:
    """A field of /proc/<pid>/status in kB (VmHWM: peak resident set; VmRSS: current)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by `pids` (from /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def peak_rss_mb(pids: list[int]) -> float:
    return max((status_kb(p, "VmHWM") for p in pids), default=0) / 1024


def _cpu_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime


class TreeMonitor:
    """CPU time and peak RSS of a process and all its descendants over a stretch of time.

    A thread samples /proc every `interval` seconds, so processes that start or exit
    meanwhile (django-q2 forks and recycles workers) still count: each process's CPU
    is its last sample minus its first one (0 if it started during the run).
    """

    def __init__(self, root: int, interval: float = 0.25) -> None:
        self.root = root
        self.interval = interval
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.peak_kb: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self, *, baseline: bool = False) -> None:
        for pid in [self.root, *children(self.root)]:
            ticks = _cpu_ticks(pid)
            if ticks is None:
                continue
            self.first.setdefault(pid, ticks if baseline else 0)
            self.last[pid] = ticks
            self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), status_kb(pid, "VmHWM"))

    def start(self) -> TreeMonitor:
        self._sample(baseline=True)

        def run() -> None:
            while not self._stop.wait(self.interval):
                self._sample()

        self._thread = threading.Thread(target=run, name="bench-tree-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict:
        """Stop sampling; returns {"cpu_s", "peak_rss_mb", "processes"}."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        ticks = sum(self.last[pid] - self.first[pid] for pid in self.last)
        return {
            "cpu_s": ticks / os.sysconf("SC_CLK_TCK"),
            "peak_rss_mb": max(self.peak_kb.values(), default=0) / 1024,
            "processes": len(self.last),
        }


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def postmaster_pid() -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine (a backend's
    parent), so its CPU can be set beside the engine's."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        with open(f"/proc/{backend}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:  # a server elsewhere (a container, another host)
        return None


class Cluster:
    """`manage.py qcluster` in its own process group, logging to a file."""

    def __init__(self, env: BenchEnv, name: str = "qcluster", **more: str) -> None:
        self.log_path = env.workdir / f"{name}.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env.env(**more),
            start_new_session=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.workers = int(more.get("Q_WORKERS") or env.extra.get("Q_WORKERS") or 3)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the worker processes exist (guard, monitor, pusher, workers)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"qcluster exited: {self.tail()}")
            if len(children(self.proc.pid)) >= self.workers + 3:
                time.sleep(1.0)
                return
            time.sleep(0.2)
        raise RuntimeError(f"qcluster not ready in {timeout} s: {self.tail()}")

    def pids(self) -> list[int]:
        return children(self.proc.pid)

    def monitor(self) -> TreeMonitor:
        """CPU and peak RSS of the whole cluster (its main process and every child)."""
        return TreeMonitor(self.proc.pid).start()

    def peak_worker_rss_mb(self) -> float:
        return peak_rss_mb(self.pids())

    def tail(self, chars: int = 3000) -> str:
        self.log.flush()
        return self.log_path.read_bytes()[-chars:].decode(errors="replace")

    def sigterm_group(self) -> None:
        """SIGTERM to every process of the cluster, as systemd's default KillMode does."""
        os.killpg(self.proc.pid, signal.SIGTERM)

    def kill9(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)  # how django-q2 stops cleanly
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # Leftovers of the group (a worker stuck in a request) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if not self.log.closed:
            self.log.close()


# --------------------------------------------------------------------------- data


def make_clients(count: int, *, prefix: str = "79", tags: tuple[str, ...] = ("",)) -> None:
    """Insert `count` clients fast (raw executemany), phones 7XXXXXXXXXX from `prefix`."""
    from django.db import connection, transaction
    from django.utils import timezone

    from messaging.campaigns.validators import tag_key
    from messaging.models import Client

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = Client._meta.db_table
    sql = (
        f"INSERT INTO {table} (phone, operator_code, tag, tag_key, timezone, created_at, "  # noqa: S608
        "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
    )
    width = 11 - len(prefix)
    batch = 20_000
    for start in range(0, count, batch):
        rows = []
        for i in range(start, min(count, start + batch)):
            phone = f"{prefix}{i:0{width}d}"
            tag = tags[i % len(tags)]
            # A raw INSERT skips the model: tag_key (what campaign filters match) is ours to fill.
            rows.append((phone, phone[1:4], tag, tag_key(tag), "Europe/Moscow", now, now))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
