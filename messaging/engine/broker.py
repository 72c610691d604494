"""django-q2's ORM broker, riding out a database outage and woken by new tasks
(Q_CLUSTER["broker_class"]).

django-q2's pusher logs a traceback and dies when the broker cannot read the queue (the
sentinel starts another, which does the same ten seconds later), and its monitor dies
when it cannot acknowledge a task. `QuietORM` waits instead, saying so in a few lines
(`core/outage.py`). An acknowledgement that could not be written leaves the task to
be delivered again after Q_RETRY, which every Herald task takes in its stride: they are
idempotent.

An empty queue is polled every Q_CLUSTER["poll"] seconds. On PostgreSQL a new task also
wakes the pusher at once: `enqueue` sends a NOTIFY, which PostgreSQL delivers when the
enqueuing transaction commits, and the pusher waits for it on its LISTENing connection
instead of sleeping. A campaign's senders then start that much sooner (the poll was
half of the time from a campaign's creation to its first request). A notification
lost to a reconnection only leaves that task to the next poll, as before.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError, connections
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf

from core import outage

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # how often the pusher looks at the queue while the database is away
CHANNEL = "herald_tasks"


class QuietORM(ORM):
    """django-q2's ORM broker, waiting out a database outage instead of dying of it."""

    def __init__(self, list_key: str | None = None) -> None:
        super().__init__(list_key=list_key)
        self.away = outage.OutageLog(log, "task queue")
        self._listening_on: object | None = None  # the driver connection we LISTEN on

    def _quietly(self, call, *args):
        try:
            result = call(*args)
        except DatabaseError as exc:
            if not outage.unreachable(exc):
                raise
            self.away.failed(exc)
            return None
        self.away.answered()
        return result

    def enqueue(self, task):
        pk = super().enqueue(task)
        connection = connections[Conf.ORM]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
        return pk

    def dequeue(self):
        tasks = self._quietly(self._take_due)
        if self.away.down:
            time.sleep(RETRY_SECONDS)  # the pusher would ask again at once
        elif not tasks:
            self._wait_for_new_task(Conf.POLL)
        return tasks

    def _take_due(self) -> list | None:
        """django-q2's ORM.dequeue without its sleep on an empty queue (ours waits)."""
        tasks = self.get_connection().filter(key=self.list_key, lock__lt=timezone.now())[
            : Conf.BULK
        ]
        taken = []
        for task in tasks:
            # Another cluster may have been faster with this task: then it is not ours.
            if (
                self.get_connection()
                .filter(id=task.id, lock=task.lock)
                .update(lock=self.timeout(task))
            ):
                taken.append((task.pk, task.payload))
        return taken or None

    def _wait_for_new_task(self, seconds: float) -> None:
        """Sleep `seconds`; on PostgreSQL, until a task is enqueued if that is sooner."""
        connection = connections[Conf.ORM]
        if connection.vendor != "postgresql":
            time.sleep(seconds)
            return
        try:
            connection.ensure_connection()
            driver = connection.connection
            if self._listening_on is not driver:  # a new connection: LISTEN again
                with connection.cursor() as cursor:
                    cursor.execute(f"LISTEN {CHANNEL}")
                self._listening_on = driver
            for _notification in driver.notifies(timeout=seconds, stop_after=1):
                pass
        except Exception as exc:  # the next dequeue meets the same error and rides it out
            self._listening_on = None
            log.debug("waiting for a task notification failed: %s", exc)
            time.sleep(seconds)

    def acknowledge(self, task_id):
        return self._quietly(super().acknowledge, task_id)

    def fail(self, task_id):
        return self._quietly(super().fail, task_id)
