"""The database going away: telling it from other errors, saying so quietly, and
noticing when it is back.

A managed database's failover or restart refuses connections and drops the open
ones for 20-120 s. Every process of a worker cluster notices on its own: the
senders, the worker's clock, django-q2's pusher, monitor and scheduler. Each says
so in a few lines (`OutageLog`): one when the database stops answering, one every
LOG_EVERY_SECONDS while it stays away, one when it answers again, never a
traceback per attempt (`QuietOutageFilter` does the same for lines logged with a
traceback by code that is not ours, django-q2's). The senders' side of an outage,
holding the results of requests already made, is in `engine/sender.py`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
import time
from typing import TypeGuard

import psycopg
from django.db import DatabaseError, connection

LOG_EVERY_SECONDS = 30.0

# PostgreSQL: connection_exception (class 08), admin_shutdown, crash_shutdown,
# cannot_connect_now. psycopg's own errors about the connection (refused, lost,
# closed, timed out) come without a state.
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03")
# SQLite: the file cannot be opened or read (SQLITE_CANTOPEN, SQLITE_IOERR).
_UNREACHABLE_SQLITE = {14, 10}


def unreachable(error: BaseException | None) -> TypeGuard[BaseException]:
    """Is this the database being away, rather than a bad query or a lock to wait for?"""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if _says_unreachable(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _says_unreachable(error: BaseException) -> bool:
    if isinstance(error, psycopg.OperationalError):
        state = error.sqlstate
        return state is None or state.startswith(_UNREACHABLE_STATES)
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _UNREACHABLE_SQLITE
    return False


def describe(error: BaseException) -> str:
    """One short line for the log: the error's type and its first line."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}"[:300]


def database_answers() -> bool:
    """Connect afresh and ask the database something trivial."""
    with contextlib.suppress(DatabaseError):
        connection.close()  # a connection broken by the outage is never reused
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


class OutageLog:
    """What one part of a process says about the database being away, in a few lines.

    `failed` for every error that says the database is away (the first one starts
    the outage), `answered` when it answers again. `counts` (e.g. held=12) are added
    to each line.
    """

    def __init__(self, logger: logging.Logger, who: str, every: float = LOG_EVERY_SECONDS):
        self.log = logger
        self.who = who
        self.every = every
        self.down_since: float | None = None
        self.next_line = 0.0
        self.error = ""

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def seconds_down(self) -> float:
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    def failed(self, error: BaseException | None = None, **counts) -> bool:
        """Note an error; True when it starts an outage."""
        now = time.monotonic()
        if error is not None:
            self.error = describe(error)
        if self.down_since is None:
            self.down_since, self.next_line = now, now + self.every
            self.log.warning(
                "database unreachable: %s %s%s (%s)",
                self.who,
                "waits for it",
                _counts(counts),
                self.error,
            )
            return True
        if now >= self.next_line:
            self.next_line = now + self.every
            self.log.warning(
                "database still unreachable after %.0fs: %s waits%s (%s)",
                now - self.down_since,
                self.who,
                _counts(counts),
                self.error,
            )
        return False

    def answered(self, **counts) -> None:
        if self.down_since is None:
            return
        self.log.warning(
            "database reachable again after %.0fs: %s goes on%s",
            time.monotonic() - self.down_since,
            self.who,
            _counts(counts),
        )
        self.down_since = None


def _counts(counts: dict) -> str:
    return "".join(f" {key}={value}" for key, value in counts.items())


class QuietOutageFilter(logging.Filter):
    """Lines logged with a traceback because the database is away lose the traceback,
    and a repeat of the same line within LOG_EVERY_SECONDS is dropped (the next one
    says how many were). Meant for code that is not ours (django-q2's scheduler and
    monitor log every failure with its traceback); ours logs outages through OutageLog.
    """

    def __init__(self, name: str = "", every: float = LOG_EVERY_SECONDS) -> None:
        super().__init__(name)
        self.every = every
        self.last: dict[tuple[str, str], float] = {}
        self.dropped: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not unreachable(error):
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        if now - self.last.get(key, -self.every) < self.every:
            self.dropped[key] = self.dropped.get(key, 0) + 1
            return False
        self.last[key] = now
        repeats = self.dropped.pop(key, 0)
        record.msg = f"{record.getMessage()} (database unreachable: {describe(error)}"
        record.msg += f"; {repeats} like it in the last {self.every:.0f}s)" if repeats else ")"
        record.args, record.exc_info, record.exc_text = (), None, None
        return True


def quiet_when_database_away(task):
    """A task that finds the database away says so in one line (its module's logger) and
    ends (a traceback per run would say nothing more); its schedule or the next tick runs
    it again."""
    task_log = logging.getLogger(task.__module__)

    @functools.wraps(task)
    def run(*args, **kwargs):
        try:
            return task(*args, **kwargs)
        except DatabaseError as exc:
            if not unreachable(exc):
                raise
            task_log.warning(
                "task %s skipped: database unreachable (%s)", task.__name__, describe(exc)
            )
            return "database unreachable"

    return run
