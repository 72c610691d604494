"""The engine's django-q2 tasks and the one-off schedules that run them.

* `pump(slot)`: one sender in a pump slot, queued by `ensure_pumps` (never by the
  scheduler: a start does not wait for it).
* `tick()`: the lifecycle's step as django-q2 runs it: every minute, at each campaign's
  start and end, and at the engine's wake-up (the fallback behind the worker's clock,
  engine/clock.py, which runs the same step every half second).

Their dotted names are defined here, beside the functions, so nothing names a task of a
module above it. messaging/tasks.py re-exports them under their old names (queued tasks
and stored schedules of an older version still run).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from core import outage
from messaging.engine import lifecycle, shutdown
from messaging.engine.sender import Sender
from messaging.engine.slots import ENQUEUE_GRACE, SLOT_STALE, claim_slot, release_slot
from messaging.models import PumpSlot

log = logging.getLogger(__name__)

PUMP_FUNC = "messaging.engine.tasks.pump"
TICK_FUNC = "messaging.engine.tasks.tick"
WAKEUP = "herald-engine-wakeup"


@outage.quiet_when_database_away
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


@outage.quiet_when_database_away
def tick() -> None:
    """The lifecycle's step, as django-q2's schedules run it (every minute, and at each
    campaign's start and end, and at the engine's wake-up)."""
    now = timezone.now()
    lifecycle.reclaim_expired_leases(now)
    lifecycle.step(now)
    if lifecycle.has_due_work(now):
        ensure_pumps()
    else:
        schedule_wakeup()


def ensure_pumps() -> int:
    """Queue a pump for every slot whose heartbeat is stale (engine/slots.py), so starting
    work never waits for the scheduler and a pump lost with a killed worker is replaced."""
    now = timezone.now()
    queued = 0
    for slot in range(settings.ENGINE_PUMPS):
        PumpSlot.objects.get_or_create(slot=slot)
        takeable = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - SLOT_STALE)
        not_queued = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - ENQUEUE_GRACE)
        if PumpSlot.objects.filter(takeable & not_queued, slot=slot).update(enqueued_at=now):
            async_task(PUMP_FUNC, slot, task_name=f"pump-{slot}", group="pumps")
            queued += 1
    if queued:
        log.info("queued %d pump task(s)", queued)
    return queued


def once(name: str, when: datetime) -> None:
    """A django-q2 schedule named `name` that runs the tick once at `when`."""
    values = {"func": TICK_FUNC, "schedule_type": Schedule.ONCE, "next_run": when, "repeats": -1}
    # Schedule names are not unique in django-q2: update every row of ours, else create one.
    if not Schedule.objects.filter(name=name).update(**values):
        Schedule.objects.create(name=name, **values)


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
    once(WAKEUP, when)
