"""After migrations: create the two roles, and make the schedules what messaging.tasks says.

When a django-q2 worker process starts: write the worker heartbeat.
"""

from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django_q.signals import post_spawn

from messaging.roles import ensure_groups


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
    from messaging import health

    health.worker_spawned(proc_name)
