"""django-q2 tasks: thin, they call the engine and return."""

from __future__ import annotations

import logging

from django.utils import timezone

from messaging.engine import lifecycle
from messaging.engine.pump import Pump
from messaging.engine.pumps import claim_slot, ensure_pumps, release_slot

log = logging.getLogger(__name__)


def pump(slot: int) -> str:
    """Run one pump in `slot` for up to ENGINE_TASK_BUDGET seconds."""
    token = claim_slot(slot)
    if token is None:
        return "slot busy"
    engine = Pump(slot=slot)
    engine.token = token
    try:
        reason = engine.run()
    finally:
        release_slot(slot, token)
    # Work that arrived while this pump was winding down, or the budget ran out.
    if lifecycle.has_due_work(timezone.now()):
        ensure_pumps()
    else:
        schedule_wakeup()
    return reason


def tick() -> None:
    """Housekeeping (every minute, and at each campaign's start and end)."""
    now = timezone.now()
    lifecycle.reclaim_expired_leases(now)
    lifecycle.start_due_campaigns(now)
    lifecycle.expire_overdue(now)
    lifecycle.finish_done(now)
    if lifecycle.has_due_work(now):
        ensure_pumps()
    else:
        schedule_wakeup()


def schedule_wakeup() -> None:
    """Wake the engine when the earliest waiting message or start becomes due."""
    from messaging.scheduling import wake_at

    upcoming = lifecycle.next_due_at(timezone.now())
    if upcoming is not None:
        wake_at(upcoming)
