"""A queued task is picked up when it is committed, not at the next poll, on PostgreSQL
(messaging/engine/broker.py): a campaign's senders start that much sooner."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django_q.conf import Conf
from django_q.signing import SignedPackage

from messaging.engine.broker import QuietORM

# A poll so long that a task taken within it was not found by polling.
LONG_POLL = 30.0


def _payload(name: str) -> str:
    return SignedPackage.dumps({"id": name, "name": name, "func": "math.floor", "args": (1,)})


def _take_in_thread(queue: QuietORM, got: list, started: threading.Event) -> threading.Thread:
    def run() -> None:
        try:
            started.set()
            deadline = time.monotonic() + 2 * LONG_POLL
            while time.monotonic() < deadline:
                tasks = queue.dequeue()
                if tasks:
                    got.append((time.monotonic(), tasks))
                    return
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_committed_task_wakes_the_waiting_pusher_before_its_poll(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's NOTIFY; SQLite polls")
    monkeypatch.setattr(Conf, "POLL", LONG_POLL)
    pusher_side, web_side = QuietORM(list_key="herald"), QuietORM(list_key="herald")
    for attempt in range(2):  # the second time on a new connection: it LISTENs again
        got: list = []
        started = threading.Event()
        thread = _take_in_thread(pusher_side, got, started)
        started.wait()
        time.sleep(0.5)  # the pusher found the queue empty and waits
        enqueued = time.monotonic()
        web_side.enqueue(_payload(f"task-{attempt}"))
        thread.join(timeout=2 * LONG_POLL)
        assert got, "the task was never taken"
        taken_at, tasks = got[0]
        assert len(tasks) == 1
        assert taken_at - enqueued < LONG_POLL / 3, "taken by the poll, not woken by NOTIFY"
        web_side.acknowledge(tasks[0][0])


@pytest.mark.django_db(transaction=True)
def test_an_empty_queue_is_polled_and_a_lost_connection_only_means_polling(monkeypatch):
    monkeypatch.setattr(Conf, "POLL", 0.05)
    queue = QuietORM(list_key="herald")
    assert queue.dequeue() is None  # waited one poll
    connection.close()  # the LISTENing connection is gone: the next wait opens another
    assert queue.dequeue() is None
    queue.enqueue(_payload("after-reconnect"))
    tasks = queue.dequeue()
    assert tasks and len(tasks) == 1
    queue.acknowledge(tasks[0][0])
    assert queue.dequeue() is None
