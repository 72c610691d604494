"""django-q2 tasks: thin, they call the engine and return."""

from __future__ import annotations

import logging

from django.utils import timezone

from messaging.engine import lifecycle, shutdown
from messaging.engine.sender import Sender
from messaging.engine.slots import claim_slot, ensure_pumps, release_slot

log = logging.getLogger(__name__)


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
        release_slot(slot, token)
    # Work that arrived while this sender was winding down, or the budget ran out (also
    # on shutdown: a pump queued now is taken by another worker node).
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
