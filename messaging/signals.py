"""After migrations: create the two roles, and move the daily report schedule to REPORT_TIME."""

from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import receiver

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
