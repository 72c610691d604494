"""Glue between campaign changes and the sending engine.

Starting never waits for anyone to act: an in-window campaign gets pumps queued
as soon as its transaction commits, and a future one has django-q2 schedules
at its start and its end (the scheduler wakes every 30 s; a running pump
notices a due start within half a second).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from messaging.models import Campaign, CampaignStatus, Message, MessageStatus

TICK = "messaging.tasks.tick"
WAKEUP = "herald-engine-wakeup"
WINDOW_FIELDS = {"send_window_start", "send_window_end"}


def _schedule_name(campaign_id: int, what: str) -> str:
    return f"campaign-{campaign_id}-{what}"


def _once(name: str, when: datetime) -> None:
    values = {"func": TICK, "schedule_type": Schedule.ONCE, "next_run": when, "repeats": -1}
    # Schedule names are not unique in django-q2: update every row of ours, else create one.
    if not Schedule.objects.filter(name=name).update(**values):
        Schedule.objects.create(name=name, **values)


def campaign_saved(campaign: Campaign, changed: set[str] | None = None) -> None:
    """Called inside the transaction that created or changed a campaign."""
    now = timezone.now()
    if campaign.status in (CampaignStatus.FINISHED, CampaignStatus.CANCELLED):
        campaign_deleted(campaign.pk)
        return
    if campaign.start_at > now and campaign.status == CampaignStatus.SCHEDULED:
        _once(_schedule_name(campaign.pk, "start"), campaign.start_at)
    else:
        Schedule.objects.filter(name=_schedule_name(campaign.pk, "start")).delete()
    _once(_schedule_name(campaign.pk, "end"), campaign.end_at)
    if changed and changed & WINDOW_FIELDS and campaign.has_started:
        # Waiting messages were timed for the old window: look at them again now.
        Message.objects.filter(
            campaign=campaign, status=MessageStatus.PENDING, next_attempt_at__gt=now
        ).update(next_attempt_at=now)
    if campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING) and (
        campaign.start_at <= now < campaign.end_at
    ):
        transaction.on_commit(_ensure_pumps)


def _ensure_pumps() -> None:
    from messaging.engine.slots import ensure_pumps

    ensure_pumps()


def campaign_deleted(campaign_id: int) -> None:
    """Called inside the transaction that ended or deleted a campaign."""
    Schedule.objects.filter(
        name__in=[_schedule_name(campaign_id, "start"), _schedule_name(campaign_id, "end")]
    ).delete()


def wake_at(when: datetime) -> None:
    """Make sure the engine looks again at `when` (keeps an earlier wake-up if one is set)."""
    existing = Schedule.objects.filter(name=WAKEUP).first()
    if existing and existing.repeats != 0 and timezone.now() <= existing.next_run <= when:
        return
    _once(WAKEUP, when)
