"""Database outages for tests: a real one on PostgreSQL, the driver's own errors elsewhere.

`cut_postgres` does to one database what a managed database's failover does: it refuses
new connections and drops the open ones (ALTER DATABASE ... ALLOW_CONNECTIONS false,
pg_terminate_backend), from a separate connection to the `postgres` database; nothing
else on the server is touched, and connections are always allowed again at the end.

`DriverCut` is for tests that run the engine in this process, on either database: while
it is on, every query on the connection it wraps fails with the error the driver gives
when the database is away (psycopg's "connection failed", SQLite's SQLITE_CANTOPEN).
"""

from __future__ import annotations

import sqlite3
import threading
import time

import psycopg
from django.db import OperationalError, connection


def admin_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"


def cut_postgres(dbname: str):
    """While inside, `dbname` refuses connections; the open ones are dropped at the start."""
    from bench.harness import refusing_connections

    assert dbname.startswith("test_"), dbname  # only ever a test database
    return refusing_connections(dbname, admin_url())


def driver_error() -> OperationalError:
    """What Django raises when the database is away, with the driver's error as cause."""
    if connection.vendor == "postgresql":
        cause = psycopg.OperationalError(
            'connection failed: FATAL:  database "test" is not currently accepting connections'
        )
    else:
        cause = sqlite3.OperationalError("unable to open database file")
        cause.sqlite_errorcode = 14  # SQLITE_CANTOPEN
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


class DriverCut:
    """An execute wrapper (`connection.execute_wrapper(cut)`) that fails every query
    between `start()` and `stop()`."""

    def __init__(self) -> None:
        self.on = threading.Event()
        self.started_at = self.stopped_at = None

    def __call__(self, execute, sql, params, many, context):
        if self.on.is_set():
            raise driver_error()
        return execute(sql, params, many, context)

    def start(self) -> None:
        self.started_at = time.time()
        self.on.set()

    def stop(self) -> None:
        self.on.clear()
        self.stopped_at = time.time()

    def run_for(self, seconds: float, *, when=lambda: True, timeout: float = 30):
        """In a thread: wait until `when()`, cut for `seconds`, then connect again."""

        def run() -> None:
            deadline = time.monotonic() + timeout
            while not when() and time.monotonic() < deadline:
                time.sleep(0.02)
            self.start()
            time.sleep(seconds)
            self.stop()

        thread = threading.Thread(target=run, name="database-cut", daemon=True)
        thread.start()
        return thread
