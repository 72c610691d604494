"""The database going away, outside the senders: telling it from other errors, quiet logs,
and django-q2's broker and Herald's tasks riding it out (core/outage.py)."""

from __future__ import annotations

import logging
import sqlite3

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, connection

from core import outage
from messaging import tasks
from messaging.engine.broker import QuietORM
from tests.support.outage import DriverCut, driver_error


def wrapped(cause: BaseException, kind=OperationalError) -> BaseException:
    error = kind(str(cause))
    error.__cause__ = cause
    return error


def sqlite_error(message: str, code: int) -> sqlite3.Error:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("error", "away"),
    [
        (wrapped(psycopg.OperationalError("connection failed: Connection refused")), True),
        (wrapped(psycopg.OperationalError("the connection is closed")), True),
        (wrapped(psycopg.errors.AdminShutdown("terminating connection")), True),
        (wrapped(psycopg.errors.CannotConnectNow("the database system is starting up")), True),
        (wrapped(psycopg.errors.ConnectionFailure("connection failure")), True),
        (wrapped(psycopg.errors.DeadlockDetected("deadlock detected")), False),  # retried
        (wrapped(psycopg.errors.QueryCanceled("statement timeout")), False),
        (wrapped(psycopg.errors.UniqueViolation("duplicate key"), IntegrityError), False),
        (wrapped(sqlite_error("unable to open database file", 14)), True),  # CANTOPEN
        (wrapped(sqlite_error("disk I/O error", 10 | (7 << 8))), True),  # IOERR_NOMEM
        (wrapped(sqlite_error("database is locked", 5)), False),  # BUSY: waited out
        (wrapped(sqlite_error("no such table: x", 1)), False),
        (ValueError("not a database error"), False),
        (None, False),
    ],
)
def test_the_database_being_away_is_told_from_other_errors(error, away):
    assert outage.unreachable(error) is away


def test_a_traceback_because_the_database_is_away_becomes_one_short_line():
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(outage.QuietOutageFilter(every=60))
    logger = logging.getLogger("tests.quiet")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for _ in range(5):
            try:
                raise wrapped(psycopg.OperationalError("connection failed: refused"))
            except OperationalError:
                logger.exception("Could not create task from schedule")
        try:
            raise ValueError("a bug")
        except ValueError:
            logger.exception("something else")
    finally:
        logger.removeHandler(handler)
    assert len(records) == 2  # one line for five failures, and the unrelated one
    assert records[0].getMessage() == (
        "Could not create task from schedule "
        "(database unreachable: OperationalError: connection failed: refused)"
    )
    assert records[0].exc_info is None and records[0].exc_text is None
    assert records[1].exc_info is not None  # other errors keep their traceback


@pytest.mark.django_db(transaction=True)
def test_the_broker_waits_for_the_database_instead_of_dying(caplog, monkeypatch):
    """django-q2's pusher dies (and is reincarnated) when dequeue raises; ours waits."""
    from messaging.engine import broker

    monkeypatch.setattr(broker, "RETRY_SECONDS", 0.01)
    queue = QuietORM(list_key="herald")
    cut = DriverCut()
    with caplog.at_level(logging.INFO), connection.execute_wrapper(cut):
        cut.start()
        assert [queue.dequeue() for _ in range(3)] == [None, None, None]
        assert queue.acknowledge(1) is None  # the task comes again after Q_RETRY
        cut.stop()
        queue.dequeue()
    lines = [r.getMessage() for r in caplog.records if r.name == "messaging.engine.broker"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("database unreachable: task queue")
    assert lines[1].startswith("database reachable again after")
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.django_db(transaction=True)
def test_a_task_that_finds_the_database_away_says_so_in_one_line(caplog):
    cut = DriverCut()
    with caplog.at_level(logging.INFO), connection.execute_wrapper(cut):
        cut.start()
        assert tasks.tick() == "database unreachable"
        assert tasks.pump(0) == "database unreachable"
    assert [r.getMessage() for r in caplog.records if r.name == "messaging.engine.tasks"] == [
        f"task tick skipped: database unreachable ({outage.describe(driver_error())})",
        f"task pump skipped: database unreachable ({outage.describe(driver_error())})",
    ]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.django_db(transaction=True)
def test_the_worker_clock_counts_an_outage_once_and_says_so_in_two_lines(caplog):
    import threading
    import time

    from prometheus_client import REGISTRY

    from messaging.engine import clock

    def outages() -> float:
        return REGISTRY.get_sample_value("herald_database_outages_total") or 0

    before = outages()
    cut, stop = DriverCut(), threading.Event()

    def run_clock() -> None:
        try:
            with connection.execute_wrapper(cut):
                clock.run(stop)
        finally:
            connection.close()

    with caplog.at_level(logging.INFO):
        thread = threading.Thread(target=run_clock)
        cut.start()
        thread.start()
        time.sleep(2.5)  # several of its looks at the schedule fail
        cut.stop()
        deadline = time.monotonic() + 10
        while not any("reachable again" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        stop.set()
        thread.join()
    assert outages() == before + 1
    lines = [r.getMessage() for r in caplog.records if r.name == "messaging.engine.clock"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("database unreachable: worker clock")
    assert lines[1].startswith("database reachable again after")
    assert not [r for r in caplog.records if r.exc_info]
