"""Everything Herald runs in the background, and when: one place.

* **Task entry points**: thin django-q2 tasks that call the reports, health or
  housekeeping, and return. The engine's own tasks (`pump`, `tick`) and its wake-up
  live with it in messaging/engine/tasks.py; they are importable here under their old
  dotted names too (tasks queued and schedules stored by an older version).
* **Recurring schedules** (`RECURRING`): declared here and written to django-q2 by
  `sync_schedules` after every `migrate` (so a deploy applies a change, and a
  changed REPORT_TIME moves the report).
* **One-off schedules** of campaigns: their start and end (django-q2's scheduler
  wakes every 30 s: the fallback behind the worker's clock) and the engine's
  wake-up for the earliest waiting message.

Not here because they are not tasks: the worker's clock thread (engine/clock.py),
which runs the lifecycle's step every half second and at each start_at (the schedules
here run the same step as its fallback), and the sender slots (engine/slots.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from core.outage import quiet_when_database_away
from messaging.engine import housekeeping
from messaging.engine.tasks import (  # noqa: F401 (pump, tick, wake-up: their old names)
    TICK_FUNC,
    WAKEUP,
    ensure_pumps,
    once,
    pump,
    schedule_wakeup,
    tick,
    wake_at,
)
from messaging.models import Campaign, CampaignStatus, Message, WorkerHeartbeat
from messaging.reporting import reports

log = logging.getLogger(__name__)

# --- Task entry points ----------------------------------------------------------


@quiet_when_database_away
def heartbeat() -> None:
    """Proves the scheduler, the queue and a worker all run (read by /readyz)."""
    WorkerHeartbeat.beat()


def send_daily_report(now: datetime | None = None) -> str:
    """The daily statistics email, exactly once per day (see messaging/reporting/reports.py)."""
    return reports.send_scheduled_report(now=now)


def retention() -> str:
    """Deletes old rows in bounded batches; queues itself again if its time ran out."""
    result = housekeeping.purge()
    if not result.finished:
        from django_q.tasks import async_task

        async_task(RETENTION_FUNC, q_options={"task_name": "herald: retention (continued)"})
    return " ".join(f"{kind}={n}" for kind, n in result.deleted.items())


# --- Recurring schedules ----------------------------------------------------------

RETENTION_FUNC = "messaging.tasks.retention"
NO_RESULT = {"q_options": {"save": False}}  # every minute: it would push useful results out


@dataclass(frozen=True)
class Recurring:
    name: str
    func: str
    schedule_type: str
    minutes: int | None = None
    kwargs: dict = field(default_factory=dict)
    # When the first run is due; for a daily one, also where it belongs (a run found at
    # another time of day is moved, e.g. after REPORT_TIME changed).
    first_run: Callable[[datetime], datetime] | None = None


RECURRING = (
    Recurring("herald-housekeeping", TICK_FUNC, Schedule.MINUTES, 1, NO_RESULT),
    Recurring(
        "herald: worker heartbeat", "messaging.tasks.heartbeat", Schedule.MINUTES, 1, NO_RESULT
    ),
    Recurring(
        reports.SCHEDULE_NAME,
        "messaging.tasks.send_daily_report",
        Schedule.DAILY,
        first_run=reports.next_due,
    ),
    Recurring("herald: retention", RETENTION_FUNC, Schedule.DAILY, first_run=housekeeping.next_run),
)


def sync_schedules(now: datetime | None = None) -> None:
    """Make django-q2's schedules what RECURRING says (run after every migrate)."""
    now = now or timezone.now()
    for recurring in RECURRING:
        values = {
            "func": recurring.func,
            "schedule_type": recurring.schedule_type,
            "minutes": recurring.minutes,
            "repeats": -1,
            "kwargs": repr(recurring.kwargs) if recurring.kwargs else None,
        }
        due = recurring.first_run(now) if recurring.first_run else now
        schedules = list(Schedule.objects.filter(name=recurring.name))
        if not schedules:
            Schedule.objects.create(name=recurring.name, next_run=due, **values)
            log.info("schedule created name=%r next_run=%s", recurring.name, due.isoformat())
            continue
        for schedule in schedules:
            changed: dict[str, Any] = {k: v for k, v in values.items() if getattr(schedule, k) != v}
            misplaced = recurring.first_run is not None and (
                schedule.next_run is None
                or schedule.next_run.astimezone(due.tzinfo).time() != due.time()
            )
            if misplaced:
                changed["next_run"] = due
            if changed:
                Schedule.objects.filter(pk=schedule.pk).update(**changed)
                log.info("schedule updated name=%r fields=%s", recurring.name, sorted(changed))


# --- One-off schedules: campaigns and the engine's wake-up --------------------------

WINDOW_FIELDS = {"send_window_start", "send_window_end"}


def _campaign_schedule(campaign_id: int, what: str) -> str:
    return f"campaign-{campaign_id}-{what}"


def campaign_saved(campaign: Campaign, changed: set[str] | None = None) -> None:
    """Called inside the transaction that created or changed a campaign."""
    now = timezone.now()
    if campaign.status in (
        CampaignStatus.DRAFT,  # the engine never touches a draft: no schedule, no sender
        CampaignStatus.FINISHED,
        CampaignStatus.CANCELLED,
    ):
        campaign_deleted(campaign.pk)
        return
    if campaign.start_at > now and campaign.status == CampaignStatus.SCHEDULED:
        once(_campaign_schedule(campaign.pk, "start"), campaign.start_at)
    else:
        Schedule.objects.filter(name=_campaign_schedule(campaign.pk, "start")).delete()
    once(_campaign_schedule(campaign.pk, "end"), campaign.end_at)
    if changed and changed & WINDOW_FIELDS and campaign.has_started:
        # Waiting messages were timed for the old window: look at them again now.
        Message.objects.pending(campaign).waiting(now).update(next_attempt_at=now)
    if campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING) and (
        campaign.start_at <= now < campaign.end_at
    ):
        transaction.on_commit(ensure_pumps)


def campaign_deleted(campaign_id: int) -> None:
    """Called inside the transaction that ended or deleted a campaign."""
    Schedule.objects.filter(
        name__in=[_campaign_schedule(campaign_id, "start"), _campaign_schedule(campaign_id, "end")]
    ).delete()
