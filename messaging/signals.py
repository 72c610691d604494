"""After migrations: create the two roles, and move the daily report schedule to REPORT_TIME.

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
def align_report_schedule(sender, **kwargs) -> None:
    # Deploys run migrate, so a changed REPORT_TIME or REPORT_TIMEZONE applies from there.
    if sender.name == "messaging":
        from messaging.reports import sync_schedule

        sync_schedule()


@receiver(post_spawn)
def worker_heartbeat_at_start(sender, proc_name, **kwargs) -> None:
    from messaging import health

    health.worker_spawned(proc_name)
