"""django-q2's ORM broker, riding out a database outage (Q_CLUSTER["broker_class"]).

django-q2's pusher logs a traceback and dies when the broker cannot read the queue (the
sentinel starts another, which does the same ten seconds later), and its monitor dies
when it cannot acknowledge a task. `QuietORM` waits instead, saying so in a few lines
(`core/outage.py`). An acknowledgement that could not be written leaves the task to
be delivered again after Q_RETRY, which every Herald task takes in its stride: they are
idempotent.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError
from django_q.brokers.orm import ORM

from core import outage

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # how often the pusher looks at the queue while the database is away


class QuietORM(ORM):
    """django-q2's ORM broker, waiting out a database outage instead of dying of it."""

    def __init__(self, list_key: str | None = None) -> None:
        super().__init__(list_key=list_key)
        self.away = outage.OutageLog(log, "task queue")

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

    def dequeue(self):
        tasks = self._quietly(super().dequeue)
        if self.away.down:
            time.sleep(RETRY_SECONDS)  # the pusher would ask again at once
        return tasks

    def acknowledge(self, task_id):
        return self._quietly(super().acknowledge, task_id)

    def fail(self, task_id):
        return self._quietly(super().fail, task_id)
