"""After migrations: create the two roles, and make the schedules what messaging.tasks says.

When a django-q2 worker process starts: write the worker heartbeat. When its task ran
past Q_TIMEOUT: django-q2 ends the process with SIGTERM, which is not a stop of the
cluster (engine/shutdown.py).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django_q.signals import post_execute_in_worker, post_spawn

from messaging.engine import shutdown
from messaging.models import WorkerHeartbeat
from security.roles import ensure_groups

log = logging.getLogger(__name__)


@receiver(post_migrate)
def create_role_groups(sender, **kwargs) -> None:
    if sender.name == "messaging":
        ensure_groups()


@receiver(post_migrate)
def sync_schedules(sender, **kwargs) -> None:
    # Deploys run migrate, so a changed schedule or REPORT_TIME applies from there.
    if sender.name == "messaging":
        from messaging.tasks import sync_schedules

        sync_schedules()


@receiver(post_spawn)
def worker_heartbeat_at_start(sender, proc_name, **kwargs) -> None:
    """A django-q2 worker process started: the cluster is up.

    Written at once so /readyz tells the truth from the start, not only after the
    first scheduled heartbeat (up to a minute, or the scheduler's 30 s wake-up, later).
    """
    try:
        WorkerHeartbeat.beat()
    except DatabaseError:
        # The scheduled heartbeat tries again; a worker must start regardless.
        log.warning("worker heartbeat at start failed process=%s", proc_name, exc_info=True)
    else:
        log.info("worker started process=%s", proc_name)


@receiver(post_execute_in_worker)
def worker_task_timed_out(sender, task, **kwargs) -> None:
    if not task.get("success") and "TimeoutException" in str(task.get("result", "")):
        shutdown.task_timed_out()
