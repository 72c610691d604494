"""Everything Herald runs in the background, and when: one place.

* **Task entry points**: thin django-q2 tasks that call the engine, the reports,
  health or housekeeping, and return.
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

import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, transaction
from django.utils import timezone
from django_q.models import Schedule

from messaging import housekeeping, outage, reports
from messaging.engine import lifecycle, shutdown
from messaging.engine.sender import Sender
from messaging.engine.slots import claim_slot, ensure_pumps, release_slot
from messaging.models import Campaign, CampaignStatus, Message, WorkerHeartbeat

log = logging.getLogger(__name__)

# --- Task entry points ----------------------------------------------------------


def quiet_when_database_away(task):
    """A task that finds the database away says so in one line and ends (a traceback per
    run would say nothing more); its schedule or the next tick runs it again."""

    @functools.wraps(task)
    def run(*args, **kwargs):
        try:
            return task(*args, **kwargs)
        except DatabaseError as exc:
            if not outage.unreachable(exc):
                raise
            log.warning(
                "task %s skipped: database unreachable (%s)", task.__name__, outage.describe(exc)
            )
            return "database unreachable"

    return run


@quiet_when_database_away
def pump(slot: int) -> str:
    """Run one sender in `slot` for up to ENGINE_TASK_BUDGET seconds."""
    if shutdown.requested():
        return "worker stopping"  # queued before the stop; another worker takes it
    token = claim_slot(slot)
    if token is None:
        return "slot busy"
    try:
        reason = Sender(token=token, slot=slot).run()
    finally:
        # Without the database its heartbeat simply goes stale (the slot frees itself).
        with contextlib.suppress(DatabaseError):
            release_slot(slot, token)
    # Work that arrived while this sender was winding down, or the budget ran out (also
    # on shutdown: a pump queued now is taken by another worker node).
    if lifecycle.has_due_work(timezone.now()):
        ensure_pumps()
    else:
        schedule_wakeup()
    return reason


@quiet_when_database_away
def tick() -> None:
    """Engine housekeeping (every minute, and at each campaign's start and end)."""
    now = timezone.now()
    lifecycle.reclaim_expired_leases(now)
    lifecycle.step(now)
    if lifecycle.has_due_work(now):
        ensure_pumps()
    else:
        schedule_wakeup()


@quiet_when_database_away
def heartbeat() -> None:
    """Proves the scheduler, the queue and a worker all run (read by /readyz)."""
    WorkerHeartbeat.beat()


def send_daily_report(now: datetime | None = None) -> str:
    """The daily statistics email, exactly once per day (see messaging/reports.py)."""
    return reports.send_scheduled_report(now=now)


def retention() -> str:
    """Deletes old rows in bounded batches; queues itself again if its time ran out."""
    result = housekeeping.purge()
    if not result.finished:
        from django_q.tasks import async_task

        async_task(RETENTION_FUNC, q_options={"task_name": "herald: retention (continued)"})
    return " ".join(f"{kind}={n}" for kind, n in result.deleted.items())


# --- Recurring schedules ----------------------------------------------------------

TICK_FUNC = "messaging.tasks.tick"
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
            changed = {k: v for k, v in values.items() if getattr(schedule, k) != v}
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

WAKEUP = "herald-engine-wakeup"
WINDOW_FIELDS = {"send_window_start", "send_window_end"}


def _campaign_schedule(campaign_id: int, what: str) -> str:
    return f"campaign-{campaign_id}-{what}"


def _once(name: str, when: datetime) -> None:
    values = {"func": TICK_FUNC, "schedule_type": Schedule.ONCE, "next_run": when, "repeats": -1}
    # Schedule names are not unique in django-q2: update every row of ours, else create one.
    if not Schedule.objects.filter(name=name).update(**values):
        Schedule.objects.create(name=name, **values)


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
        _once(_campaign_schedule(campaign.pk, "start"), campaign.start_at)
    else:
        Schedule.objects.filter(name=_campaign_schedule(campaign.pk, "start")).delete()
    _once(_campaign_schedule(campaign.pk, "end"), campaign.end_at)
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


def schedule_wakeup() -> None:
    """Wake the engine when the earliest waiting message or start becomes due."""
    upcoming = lifecycle.next_due_at(timezone.now())
    if upcoming is not None:
        wake_at(upcoming)


def wake_at(when: datetime) -> None:
    """Make sure the engine looks again at `when` (keeps an earlier wake-up if one is set)."""
    existing = Schedule.objects.filter(name=WAKEUP).first()
    if existing and existing.repeats != 0 and timezone.now() <= existing.next_run <= when:
        return
    _once(WAKEUP, when)
