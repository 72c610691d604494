"""The sender: one worker's sending loop.

One thread talks to the database (claims, records, leases); the provider
client's asyncio loop (aiohttp, its own thread) holds the requests in flight, up
to `PROVIDER_CONCURRENCY` of them. Messages are claimed per campaign with a lease
(`claims.py`), sent under the global rate cap and the shared circuit breaker,
decided (`outcomes.py`) and recorded in batches (`recording.py`). Every step works
across all running campaigns, so a new campaign is picked up within one tick and
several senders share a large campaign.

Without its database a sender holds what it has until the database answers again
(`holding.py`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from concurrent.futures import Future
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError

from core import outage
from core.logs import ids
from core.times import utc_now
from messaging.engine import circuit, claims, lifecycle, nudge, recording
from messaging.engine.circuit import Gate
from messaging.engine.holding import Holding
from messaging.engine.inflight import HANG_HEADROOM, InFlight
from messaging.engine.outcomes import Job, NotSent, Outcome
from messaging.engine.ratelimit import START_TOLERANCE, RateLimiter
from messaging.models import Campaign, CampaignStatus, PumpSlot
from messaging.provider import AsyncProviderClient, ProviderResult, Verdict, request_body
from messaging.provider.clients import STARTED_LATE
from messaging.reporting import metrics

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5  # how often campaign states and the provider gate are re-read
RECLAIM_EVERY_SECONDS = 5.0  # also how often this sender renews its own leases
# Fewer, larger write transactions: on SQLite every write waits for the one writer lock.
FLUSH_EVERY_SECONDS = 0.5
HEARTBEAT_SECONDS = 2.0  # well inside slots.SLOT_STALE
# Claim what can go out now plus a small reserve (a tenth of the concurrency): a sender
# that hoarded more would leave other senders nothing of a small campaign.
CLAIM_RESERVE_SHARE = 0.1
CLAIM_MIN_SHARE = 0.25  # ... once at least a quarter of the concurrency can be taken
CLAIM_PAUSE_SECONDS = 0.1  # after a claim found nothing due
IDLE_WAIT = timedelta(seconds=10)  # keep looping when work becomes due this soon


class Sender(Holding):
    def __init__(
        self,
        *,
        token: uuid.UUID,
        slot: int | None = None,
        client: AsyncProviderClient | None = None,
        concurrency: int | None = None,
        rate_limit: float | None = None,
        budget_seconds: float | None = None,
        flush_batch: int | None = None,
        clock=utc_now,
    ) -> None:
        self.token = token
        self.slot = slot
        self.concurrency = concurrency or settings.PROVIDER_CONCURRENCY
        self.client = client or AsyncProviderClient(
            max_connections=self.concurrency * HANG_HEADROOM
        )
        self.limiter = RateLimiter(
            settings.PROVIDER_RATE_LIMIT if rate_limit is None else rate_limit
        )
        self.budget = budget_seconds or settings.ENGINE_TASK_BUDGET
        self.flush_batch = flush_batch or settings.ENGINE_FLUSH_BATCH
        self.clock = clock
        self.gate = circuit.ProviderGate(self.client.fingerprint)
        self.campaigns: dict[int, datetime] = {}  # running campaign id -> its end, per tick
        self.queue: deque[Job] = deque()
        self.inflight = InFlight(self.concurrency)
        self.claim_reserve = max(1, int(self.concurrency * CLAIM_RESERVE_SHARE))
        self.claim_at_least = max(1, int(self.concurrency * CLAIM_MIN_SHARE))
        self.outcomes: list[Outcome] = []
        self.last_flush = time.monotonic()
        self.last_tick = 0.0
        self.last_reclaim = 0.0
        self.last_heartbeat = 0.0
        self.next_claim = 0.0
        self.rotation = 0
        self.stolen = False
        self.start_holding()

    # --- the loop ---------------------------------------------------------------

    def run(self) -> str:
        """Send until nothing is due, the budget is spent, the slot is lost or the
        worker stops. Returns why it ended."""
        self.started = time.monotonic()
        self.last_tick = 0.0  # read the campaigns and the gate before anything else
        self.client.start()
        reason = "idle"
        try:
            while True:
                if self._stop_requested():
                    reason = "shutdown"
                    break
                if self.away.down:
                    if not self._without_database():
                        reason = "database unreachable"
                        break
                    continue
                now = self.clock()
                if time.monotonic() - self.last_tick >= TICK_SECONDS:
                    if not self._guarded(self._tick, now):
                        continue
                    if self.stolen:
                        reason = "slot lost"
                        break
                    self._guarded(self._drop_stale_jobs, now)
                if time.monotonic() - self.started >= self.budget:
                    reason = "budget"
                    break
                if self.gate.open and self._claim_due():
                    self._guarded(self._claim, now, self._claim_size())
                elif self.gate.wants_probe and not self.queue:
                    self._guarded(self._claim, now, 1)
                self._guarded(self._submit)
                self._collect()
                if self.outcomes and (
                    len(self.outcomes) >= self.flush_batch
                    or time.monotonic() - self.last_flush >= FLUSH_EVERY_SECONDS
                    or not (self.queue or self.inflight)  # nothing else to wait for
                ):
                    self._flush()
                if not self.queue and not self.inflight and not self.outcomes:
                    work = self._guarded(lifecycle.work_ahead, now, IDLE_WAIT)
                    if work is False:
                        break
                    if work == "now":  # a campaign starting: see it next turn, not next tick
                        self.last_tick = 0.0
                    # Held by the circuit, or work due in a moment: wait, then look again.
                    time.sleep(0.05 if self.gate.open else 0.2)
        finally:
            self._wind_down()
        log.info("sender stopped slot=%s reason=%s", self.slot, reason)
        return reason

    def _guarded(self, step, *args):
        """Run one database step of the loop: its result, or None after an error that is
        waited out (a transient one), or the database going away (see the docstring)."""
        try:
            return step(*args)
        except DatabaseError as exc:
            if outage.unreachable(exc):
                self._database_lost(exc)
                return None
            if not recording.is_transient(exc):
                raise
            log.warning("sender step %s hit a transient database error: %s", step.__name__, exc)
            time.sleep(0.1)
            return None

    def _record_health(self) -> None:
        """What this sender last saw of the provider, for the dashboard and /readyz."""
        latency_ms, error_rate = self.inflight.median_latency_ms(), self.gate.failures.error_rate()
        circuit.record_health(latency_ms=latency_ms, error_rate=error_rate)

    def _claim_due(self) -> bool:
        """Time to claim: the queue is low, and the claim worth its cost. A claim costs
        milliseconds of this thread whatever its size: claiming a few dozen rows every
        turn made claims most of its CPU per message (measured on both databases)."""
        if len(self.queue) >= self.claim_reserve or time.monotonic() < self.next_claim:
            return False
        worth_it = min(self.claim_at_least, self._claim_cap())
        return not self.inflight or self._claim_size() >= worth_it

    def _claim_cap(self) -> int:
        """Under a rate cap, hold no more than about two seconds of sending, far inside
        the lease; without one, what the connection pool can have in flight."""
        if self.limiter.unlimited:
            return self.concurrency * HANG_HEADROOM
        return max(1, int(self.limiter.rate * 2))

    def _claim_size(self) -> int:
        size = max(1, self._free_slots() + self.claim_reserve - len(self.queue))
        return min(size, self._claim_cap())

    def _tick(self, now: datetime) -> bool:
        self.last_tick = time.monotonic()
        if self.slot is not None and time.monotonic() - self.last_heartbeat >= HEARTBEAT_SECONDS:
            self.last_heartbeat = time.monotonic()
            alive = PumpSlot.objects.filter(slot=self.slot, token=self.token).update(
                heartbeat_at=now
            )
            self.stolen = not alive
        if time.monotonic() - self.last_reclaim >= RECLAIM_EVERY_SECONDS:
            self.last_reclaim = time.monotonic()
            claims.renew_leases(token=self.token, now=now)
            lifecycle.reclaim_expired_leases(now)
            self._record_health()
        # Campaigns start, expire and finish by the worker's clock (lifecycle.step): a
        # sender sends what is running.
        self.campaigns = dict(
            Campaign.objects.filter(status=CampaignStatus.RUNNING, end_at__gt=now).values_list(
                "id", "end_at"
            )
        )
        self.gate.refresh(now, probe_timeout=claims.request_seconds())
        if self.gate.holding:
            self._release_queue()
        return True

    def _drop_stale_jobs(self, now: datetime) -> None:
        """Jobs of campaigns paused, cancelled or past their end go back before sending."""
        if not self.queue:
            return
        keep: deque[Job] = deque()
        drop: list[Job] = []
        for job in self.queue:
            end_at = self.campaigns.get(job.campaign_id)
            (keep if end_at and end_at > now else drop).append(job)
        if drop:
            claims.release(drop, token=self.token)
            self.queue = keep

    # --- claiming -------------------------------------------------------------------

    def _claim(self, now: datetime, limit: int) -> None:
        ids = list(self.campaigns)
        if not ids:
            self.next_claim = time.monotonic() + CLAIM_PAUSE_SECONDS
            return
        before = len(self.queue)
        # Rotate so every running campaign gets its share of each claim.
        self.rotation = (self.rotation + 1) % len(ids)
        ids = ids[self.rotation :] + ids[: self.rotation]
        per_campaign = max(1, limit // len(ids))
        for campaign_id in ids:
            self.queue.extend(
                claims.claim(campaign_id, token=self.token, now=now, limit=per_campaign)
            )
        if len(self.queue) == before:
            # Nothing due: look again shortly rather than on every turn of the loop.
            self.next_claim = time.monotonic() + CLAIM_PAUSE_SECONDS

    # --- sending --------------------------------------------------------------------

    def _free_slots(self) -> int:
        if self.gate.state is Gate.PROBE:
            return 0 if self.inflight else 1
        return self.inflight.free_slots()

    def _submit(self) -> None:
        if self.gate.holding or not self.queue:
            return
        # Handed to the client's loop thread together when this turn ends, however it ends.
        batch: list[tuple[Job, tuple]] = []
        try:
            self._start_requests(batch)
        finally:
            if batch:
                futures = self.client.submit_many([request for _job, request in batch])
                for (job, _request), future in zip(batch, futures, strict=True):
                    self.inflight.add(future, job)

    def _start_requests(self, batch: list[tuple[Job, tuple]]) -> None:
        """Take jobs off the queue for every free slot; their requests go into `batch`."""
        free = self._free_slots()
        # Read once per turn (a turn takes milliseconds): each request reads the clock
        # again right before it starts (`_time_left`).
        now, min_time_left = self.clock(), self.inflight.min_time_left()
        while self.queue and free > 0:
            if self.gate.state is Gate.PROBE and self.gate.probe_inflight:
                return
            job = self.queue.popleft()
            end_at = self.campaigns.get(job.campaign_id)
            if end_at is None:  # paused or cancelled since the claim
                try:
                    claims.release([job], token=self.token)
                except DatabaseError:
                    self.queue.appendleft(job)  # still ours, not sent
                    raise
                continue
            end_at = min(end_at, job.end_at)
            if (end_at - now).total_seconds() < min_time_left:
                self.outcomes.append(Outcome(job, not_sent=NotSent.DEADLINE))
                continue
            try:
                body = request_body(job.message_id, job.phone, job.text)
            except Exception as exc:
                # One bad message fails alone; the others go on.
                log.warning("message cannot be sent reason=%r", str(exc), extra=ids(job))
                self.outcomes.append(Outcome(job, not_sent=NotSent.BAD_MESSAGE, detail=str(exc)))
                continue
            start_window = None
            if not self.limiter.unlimited:
                try:
                    slot = self.limiter.acquire(want=min(free, len(self.queue) + 1))
                except DatabaseError:
                    self.queue.appendleft(job)  # still ours, not sent
                    raise
                if slot is None:
                    self.queue.appendleft(job)
                    return
                start_window = (slot, slot + START_TOLERANCE)
            self.gate.request_started()
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "provider request url=%s/send/%s",
                    self.client.url,
                    job.message_id,
                    extra=ids(job),
                )
            batch.append((job, (job.message_id, body, self._time_left(end_at), start_window)))
            free -= 1

    def _time_left(self, end_at: datetime):
        """Seconds left for the request, asked right before it starts; 0 if too few."""
        clock, floor = self.clock, self.inflight.min_time_left()

        def seconds_left() -> float:
            left = (end_at - clock()).total_seconds()
            return left if left >= floor else 0.0

        return seconds_left

    def _collect(self) -> None:
        for future in self.inflight.finished():
            self._take(future)

    def _take(self, future: Future) -> None:
        job = self.inflight.pop(future)
        if job is None:  # already taken (the wind-down takes futures directly)
            return
        try:
            result = future.result()
        except Exception as exc:  # a bug in the transport: the request may have gone out
            log.exception("provider request raised", extra=ids(job))
            result = ProviderResult(
                verdict=Verdict.TRANSIENT,
                outcome="connection_error",
                started_at=self.clock(),
                duration_ms=0,
                reason=f"Unexpected error: {type(exc).__name__}",
            )
        if result == STARTED_LATE:
            # Its rate slot passed (a stalled loop): the message waits for a new one.
            self.gate.request_not_made()
            self.queue.appendleft(job)
            if log.isEnabledFor(logging.INFO):
                log.info("provider request not made reason=started_late", extra=ids(job))
            return
        if result is None:
            self.outcomes.append(Outcome(job, not_sent=NotSent.DEADLINE))
            if log.isEnabledFor(logging.INFO):
                log.info("provider request not made reason=deadline", extra=ids(job))
            return
        self.outcomes.append(Outcome(job, result=result))
        if log.isEnabledFor(logging.INFO):
            log.info(
                "provider response outcome=%s http_status=%s duration_ms=%d%s",
                result.outcome,
                result.http_status,
                result.duration_ms,
                f" reason={result.reason!r}" if result.reason else "",
                extra=ids(job),
            )
        self.inflight.latencies.append(result.duration_ms)
        metrics.observe_provider_request(result.outcome, result.duration_ms / 1000)
        # Judged at once, not at the next flush: a refused token or a dead provider
        # must stop new requests immediately (none starts while the database is away).
        if not self.away.down:
            self._guarded(self.gate.judge, result, self.clock())

    # --- recording ------------------------------------------------------------------

    def _flush(self) -> bool:
        """Record what is waiting; False if the database is away (then it is held)."""
        if not self.outcomes:
            return True
        batch, self.outcomes = self.outcomes, []
        self.last_flush = time.monotonic()
        # Transient database errors are retried while our leases (renewed every few
        # seconds) still hold the messages.
        retry_until = time.monotonic() + claims.lease_seconds() - RECLAIM_EVERY_SECONDS
        try:
            recording.record(batch, token=self.token, clock=self.clock, retry_until=retry_until)
        except recording.Unrecorded as away:
            self.outcomes[:0] = away.outcomes
            self._database_lost(away.__cause__)
            return False
        if not (self.queue or self.inflight):
            nudge.nudge()  # its last results are recorded: the clock may finish a campaign
        return True
