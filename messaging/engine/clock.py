"""The worker's clock: campaigns started, expired and finished on time.

A thread of the worker cluster's main process (see `manage.py qcluster`): every
POLL_SECONDS, or exactly at the earliest `start_at` of a scheduled campaign if that
comes sooner, it runs the lifecycle's `step` (what starts, expires and finishes) and
queues the senders when something started. So a campaign created or moved meanwhile
is seen well before it is due. django-q2's schedules stay as the fallback (they fire
within 30 s and run the same step). A second before a start it queues the senders
already, so one is running and waiting when the moment comes. Every few seconds it
also puts back the messages of a worker that died (after their lease). Several
clusters may run it at once: the step is idempotent.

A sender that has recorded its last results nudges it (engine/nudge.py), so a campaign
is finished a moment after its last message rather than at the next half second.

It reads the database twice a second, so it is the cluster's witness of a database
outage: it counts it (herald_database_outages_total), says so in a few lines, and when
the database answers again queues senders for the slots whose sender gave up meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.db import DatabaseError, close_old_connections
from django.db.models import Min
from django.utils import timezone

from core import outage
from messaging.engine import lifecycle, nudge
from messaging.engine.tasks import ensure_pumps
from messaging.models import Campaign, CampaignStatus
from messaging.reporting import metrics

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
NUDGE_POLL_SECONDS = 0.02  # how often the clock looks at the senders' nudge (a memory read)
WARM_UP = timedelta(seconds=1)
# Also, this often: messages of a dead worker back after their lease, without waiting
# for a sender or the minute's tick.
CHORES_EVERY = timedelta(seconds=5)


def next_start():
    return Campaign.objects.filter(status=CampaignStatus.SCHEDULED).aggregate(t=Min("start_at"))[
        "t"
    ]


def tick(warmed: set, chores: dict | None = None) -> float:
    """Step the lifecycle; returns how long to sleep before looking again."""
    now = timezone.now()
    if chores is not None and now - chores.get("last", now - CHORES_EVERY) >= CHORES_EVERY:
        chores["last"] = now
        if lifecycle.reclaim_expired_leases(now):
            ensure_pumps()
    started = lifecycle.step(now).started
    if started:
        log.info("clock started campaigns %s", ",".join(map(str, started)))
        ensure_pumps()
    upcoming = next_start()
    if upcoming is None:
        return POLL_SECONDS
    if upcoming - now <= WARM_UP and upcoming not in warmed:
        warmed.add(upcoming)
        ensure_pumps()  # a sender will be looking when the start comes
    return max(0.005, min(POLL_SECONDS, (upcoming - now).total_seconds()))


def run(stop: threading.Event) -> None:
    warmed: set = set()
    chores: dict = {}
    away = outage.OutageLog(log, "worker clock")
    while not stop.is_set():
        nudged = nudge.seen()  # a nudge during this step makes the next one come at once
        try:
            wait = tick(warmed, chores)
            if away.down:
                away.answered()
                ensure_pumps()  # slots whose sender gave up during the outage
        except DatabaseError as exc:
            if outage.unreachable(exc):
                if away.failed(exc):
                    metrics.count_database_outage()
            else:
                log.warning("clock could not read the schedule: %s", exc)
            close_old_connections()
            wait = 1.0
        except Exception:
            log.exception("clock failed; trying again")
            wait = 2.0
        if len(warmed) > 100:
            warmed.clear()
        wait_or_nudge(stop, wait, nudged)


def wait_or_nudge(stop: threading.Event, seconds: float, nudged: int) -> None:
    """Sleep `seconds`, or less when a stop comes or the senders' nudge (engine/nudge.py)
    is no longer `nudged`."""
    deadline = time.monotonic() + seconds
    while not stop.wait(min(NUDGE_POLL_SECONDS, max(0.0, deadline - time.monotonic()))):
        if nudge.seen() != nudged or time.monotonic() >= deadline:
            return
