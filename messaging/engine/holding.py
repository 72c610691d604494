"""A sender's hard times: winding down when asked to stop, and holding what it has
while its database is away.

**Winding down** (a stop, the end of its budget, a lost slot): the sender hands back
the messages it claimed but did not send, waits for its requests in flight (their
timeouts bound it), records every result and returns.

**Without its database** (an outage, as `core/outage.py` tells one) a sender claims
nothing and starts no request: their results could not be recorded. The requests
already in flight finish (by their timeouts at the latest) and their results are held
in memory, with the messages claimed but not sent yet: at most twice
PROVIDER_CONCURRENCY requests, a claim's reserve and a flush batch, so memory is
bounded by construction. Every PROBE_SECONDS it looks for the database; when it
answers, the sender first renews the leases of everything it holds, then records
what it held (an accepted send is `sent`, as ever), then goes on where it stopped.

A claim's lease outlasts ENGINE_OUTAGE_SECONDS (`claims.lease_seconds`), so no reclaim
takes a held message meanwhile: an outage that long re-sends nothing. The sender holds
on longer if its task may (it usually gets back before anyone reclaims); beyond that
the rule is at-least-once, as after a crash: what it gives up (at the end of its task's
time, or STOP_WAIT_SECONDS after a stop was asked for) is logged in one line and
counted, and those messages go again after their lease.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from django.conf import settings

from core import outage
from messaging.engine import claims, shutdown
from messaging.reporting import metrics

if TYPE_CHECKING:
    import uuid
    from collections.abc import Callable
    from concurrent.futures import Future
    from datetime import datetime

    from messaging.engine.inflight import InFlight
    from messaging.engine.outcomes import Job, Outcome
    from messaging.provider import AsyncProviderClient

log = logging.getLogger("messaging.engine.sender")

STOP_CHECK_SECONDS = 0.1
PROBE_SECONDS = 1.0  # how often a sender without its database looks for it again
# After a stop is asked for, how long a sender without its database waits for it before
# giving up what it holds: the cluster must exit within 30 s.
STOP_WAIT_SECONDS = 20.0


class Holding:
    """The Sender's winding down and its side of an outage (a mixin of `Sender`)."""

    # What it uses of the Sender, for the type checker.
    slot: int | None
    token: uuid.UUID
    client: AsyncProviderClient
    clock: Callable[[], datetime]
    queue: deque[Job]
    outcomes: list[Outcome]
    inflight: InFlight
    started: float
    last_tick: float
    last_heartbeat: float

    if TYPE_CHECKING:

        def _guarded(self, step: Callable[..., Any], *args: Any) -> Any: ...
        def _take(self, future: Future) -> None: ...
        def _flush(self) -> bool: ...
        def _collect(self) -> None: ...
        def _record_health(self) -> None: ...

    def start_holding(self) -> None:
        self.away = outage.OutageLog(log, f"sender slot={self.slot}")
        self.next_probe = 0.0
        self.last_stop_check = 0.0
        self.stop_deadline: float | None = None
        # The task's time limit, less what winding down takes: how long it may hold on.
        self.hold_seconds = settings.Q_CLUSTER["timeout"] - claims.request_seconds()

    def _stop_requested(self) -> bool:
        if time.monotonic() - self.last_stop_check < STOP_CHECK_SECONDS:
            return False
        self.last_stop_check = time.monotonic()
        if shutdown.requested() and self.stop_deadline is None:
            self.stop_deadline = time.monotonic() + STOP_WAIT_SECONDS
        return shutdown.requested()

    def _wind_down(self) -> None:
        """Hand back what was never sent, wait for what is in flight, record everything."""
        self._guarded(self._release_queue)
        # Requests end by their own timeouts (capped at each campaign's end).
        longest = settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT + 5
        for future in list(self.inflight.requests):
            with contextlib.suppress(Exception):  # _take turns an error into an outcome
                future.result(timeout=longest)
            self._take(future)
        self._flush()
        while self.away.down and self._without_database():
            pass  # what is held is recorded as soon as the database answers
        if not self.away.down:
            self._guarded(self._release_queue)  # requests that started late came back to it
        self._give_up()
        self.client.close()
        metrics.hold_outcomes(0)
        if not self.away.down:
            # What this sender last saw of the provider, so a short run leaves it too.
            self._guarded(self._record_health)

    def _release_queue(self) -> None:
        if self.queue:
            claims.release(self.queue, token=self.token)
            self.queue.clear()

    def _held(self) -> dict[str, int]:
        return {"held": len(self.outcomes), "in_flight": len(self.inflight)}

    def _database_lost(self, error: BaseException | None) -> None:
        if self.away.failed(error, **self._held()):
            self.next_probe = time.monotonic() + PROBE_SECONDS
        metrics.hold_outcomes(len(self.outcomes))

    def _without_database(self) -> bool:
        """One turn of the loop while the database is away: keep the results of the
        requests in flight, look for the database now and then. False once holding on
        is over (the task's time, or a stop's, ran out)."""
        self._collect()
        if time.monotonic() >= self.next_probe:
            self.next_probe = time.monotonic() + PROBE_SECONDS
            if outage.database_answers():
                self._guarded(self._database_back)
                if not self.away.down:
                    return True
            self._database_lost(None)  # still away: a line now and then
        if not self.inflight:
            time.sleep(0.05)
        deadline = self.started + self.hold_seconds
        if self.stop_deadline is not None:
            deadline = min(deadline, self.stop_deadline)
        return time.monotonic() < deadline

    def _database_back(self) -> None:
        """First the leases of everything held (no reclaim takes them now), then the
        held results, then on as before."""
        renewed = claims.renew_leases(token=self.token, now=self.clock())
        held = len(self.outcomes)
        if not self._flush():
            return  # away again
        self.away.answered(recorded=held, leases_renewed=renewed)
        metrics.hold_outcomes(0, recorded=held)
        self.last_tick = self.last_heartbeat = 0.0  # states and the heartbeat at once

    def _give_up(self) -> None:
        """Beyond the guaranteed outage, or stopped during one: what is held is dropped
        (its messages go again after their lease: at-least-once, as after a crash)."""
        if not (self.outcomes or self.queue):
            return
        if not self.away.down:  # a hand-back that failed otherwise: their lease brings them
            log.warning(
                "could not hand back %d claimed messages (their lease will)", len(self.queue)
            )
            self.queue = deque()
            return
        accepted = sum(1 for o in self.outcomes if o.result is not None and o.result.sent)
        log.error(
            "database unreachable for %.0fs: sender slot=%s gives up %d results (%d accepted "
            "by the provider) and %d claimed messages; they go again after their lease",
            self.away.seconds_down(),
            self.slot,
            len(self.outcomes),
            accepted,
            len(self.queue),
        )
        metrics.hold_outcomes(0, given_up=len(self.outcomes))
        self.outcomes, self.queue = [], deque()
