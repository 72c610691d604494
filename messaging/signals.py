"""After migrations: create the two roles, and make the schedules what messaging.tasks says.

When a django-q2 worker process starts: write the worker heartbeat.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django_q.signals import post_spawn

from messaging.models import WorkerHeartbeat
from messaging.roles import ensure_groups

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
