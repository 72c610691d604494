"""The pump: one worker's sending loop.

One thread talks to the database (claims, records, lifecycle); a pool of
threads only makes HTTP requests. Messages are claimed in batches with a lease
(status `sending`), sent concurrently under the global rate cap and the shared
circuit breaker, and their results are recorded in batches. Every step works
across all running campaigns, so a new campaign is picked up within one cycle
and several pumps share a large campaign.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from messaging import metrics
from messaging.engine import circuit, lifecycle
from messaging.engine.circuit import Gate
from messaging.engine.ratelimit import RateLimiter
from messaging.engine.windows import next_send_time
from messaging.models import (
    Campaign,
    CampaignStatus,
    DeliveryAttempt,
    Message,
    MessageStatus,
    PumpSlot,
)
from messaging.models.stats import adjust_counts, record_sends
from messaging.provider import ProviderClient, ProviderResult, Verdict

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5  # how often campaign states and the provider gate are re-read
RECLAIM_EVERY_SECONDS = 5.0
# Fewer, larger write transactions: on SQLite every write waits for the one writer lock,
# and a waiter sleeps in steps of 1-100 ms, stalling the loop (bench/README.md, profile).
FLUSH_EVERY_SECONDS = 0.5
HEARTBEAT_SECONDS = 2.0  # well inside SLOT_STALE_SECONDS
CLAIM_BATCHES = 4  # claim this many times PROVIDER_CONCURRENCY when the queue runs low
FLUSH_BATCH = 500
CLAIM_PAUSE_SECONDS = 0.1  # after a claim found nothing due
IDLE_WAIT_SECONDS = 10.0  # keep looping when work becomes due this soon
SLOT_STALE_SECONDS = 10.0


@dataclass
class CampaignView:
    """What a pump needs of a campaign, re-read every tick (edits apply to unsent messages)."""

    id: int
    text: str
    end_at: datetime
    window_start: dtime | None
    window_end: dtime | None


@dataclass
class Job:
    message_id: int
    campaign_id: int
    phone: str
    client_id: int | None
    attempts: int  # requests made before this one


DEADLINE = "deadline"  # the job was not sent: no time left before end_at


def backoff_seconds(attempts: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), capped, then 50-100% of it."""
    rng = rng or random
    ceiling = min(
        settings.RETRY_MAX_SECONDS, settings.RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    )
    return ceiling * (0.5 + rng.random() / 2)


def lease_seconds() -> float:
    return settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT + 20


class Pump:
    def __init__(
        self,
        *,
        slot: int | None = None,
        client: ProviderClient | None = None,
        concurrency: int | None = None,
        rate_limit: float | None = None,
        budget_seconds: float | None = None,
        clock=timezone.now,
    ) -> None:
        self.slot = slot
        self.client = client or ProviderClient()
        self.concurrency = concurrency or settings.PROVIDER_CONCURRENCY
        self.limiter = RateLimiter(
            settings.PROVIDER_RATE_LIMIT if rate_limit is None else rate_limit
        )
        self.budget = budget_seconds or settings.ENGINE_TASK_BUDGET
        self.clock = clock
        self.token = uuid.uuid4()
        self.fingerprint = circuit.token_fingerprint(self.client._token)
        self.failures = circuit.FailureWindow()
        self.campaigns: dict[int, CampaignView] = {}
        self.queue: deque[Job] = deque()
        self.inflight: dict[Future, Job] = {}
        # Futures put themselves here when done: cheaper than wait() on every in-flight future
        # each time round the loop.
        self.completed: queue.SimpleQueue[Future] = queue.SimpleQueue()
        self.done: list[tuple[Job, ProviderResult | str]] = []
        self.gate = Gate.GO
        self.probe_inflight = False
        self.last_flush = time.monotonic()
        self.last_tick = 0.0
        self.last_reclaim = 0.0
        self.last_heartbeat = 0.0
        self.next_claim = 0.0
        self.rotation = 0
        self.latencies: deque[int] = deque(maxlen=200)
        self.stolen = False
        self._lock = threading.Lock()

    # --- the loop ---------------------------------------------------------------

    def run(self) -> str:
        """Send until there is nothing due, the budget is spent, or the slot is lost."""
        started = time.monotonic()
        self.last_tick = 0.0  # read the campaigns and the gate before anything else
        executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="herald-send")
        reason = "idle"
        try:
            while True:
                now = self.clock()
                if time.monotonic() - self.last_tick >= TICK_SECONDS:
                    self._tick(now)
                    if self.stolen:
                        reason = "slot lost"
                        break
                    self._drop_stale_jobs(now)
                if time.monotonic() - started >= self.budget:
                    reason = "budget"
                    break
                if (
                    self.gate is Gate.GO
                    and len(self.queue) < self.concurrency
                    and time.monotonic() >= self.next_claim
                ):
                    self._claim(now, self._claim_size())
                elif self.gate is Gate.PROBE and not self.queue and not self.probe_inflight:
                    self._claim(now, 1)
                self._submit(executor)
                self._collect()
                if self.done and (
                    len(self.done) >= FLUSH_BATCH
                    or time.monotonic() - self.last_flush >= FLUSH_EVERY_SECONDS
                    or not (self.queue or self.inflight)  # nothing else to wait for
                ):
                    self._flush()
                if not self.queue and not self.inflight and not self.done:
                    if not self._work_soon(now):
                        break
                    # Held by the circuit, or work due in a moment: wait, then look again.
                    time.sleep(0.2 if self.gate is not Gate.GO else 0.1)
        finally:
            self._release(self.queue)
            self.queue.clear()
            for future in list(self.inflight):
                future.result()
                self._take(future)
            self._flush()
            executor.shutdown(wait=True)
            lifecycle.finish_done(self.clock())
        log.debug("pump stopped slot=%s reason=%s", self.slot, reason)
        return reason

    def _claim_size(self) -> int:
        size = self.concurrency * CLAIM_BATCHES
        if not self.limiter.unlimited:
            # Under a rate cap, hold no more than about two seconds of sending, far
            # inside the lease, so claimed messages never wait long enough to be reclaimed.
            size = min(size, max(1, int(self.limiter.rate * 2)))
        return size

    def _work_soon(self, now: datetime) -> bool:
        if lifecycle.has_due_work(now):
            return True
        upcoming = lifecycle.next_due_at(now)
        return upcoming is not None and upcoming <= now + timedelta(seconds=IDLE_WAIT_SECONDS)

    # --- every tick: states, lifecycle, heartbeat --------------------------------

    def _tick(self, now: datetime) -> None:
        self.last_tick = time.monotonic()
        if self.slot is not None and time.monotonic() - self.last_heartbeat >= HEARTBEAT_SECONDS:
            self.last_heartbeat = time.monotonic()
            alive = PumpSlot.objects.filter(slot=self.slot, token=self.token).update(
                heartbeat_at=now
            )
            self.stolen = not alive
        lifecycle.start_due_campaigns(now)
        lifecycle.expire_overdue(now)
        if time.monotonic() - self.last_reclaim >= RECLAIM_EVERY_SECONDS:
            self.last_reclaim = time.monotonic()
            lifecycle.reclaim_expired_leases(now)
            circuit.record_health(
                latency_ms=self._median_latency(), error_rate=self.failures.error_rate()
            )
        lifecycle.finish_done(now)
        self.campaigns = {
            c.id: CampaignView(c.id, c.text, c.end_at, c.send_window_start, c.send_window_end)
            for c in Campaign.objects.filter(status=CampaignStatus.RUNNING, end_at__gt=now).only(
                "id", "text", "end_at", "send_window_start", "send_window_end"
            )
        }
        if self.gate is not Gate.PROBE:  # a won probe is kept until its answer
            previous = self.gate
            self.gate = circuit.check_gate(
                now, fingerprint=self.fingerprint, probe_timeout=lease_seconds()
            )
            if previous is not Gate.GO and self.gate is Gate.GO:
                # Failures from before the hold say nothing about the provider now.
                self.failures.clear()
        if self.gate is Gate.HOLD and self.queue:
            self._release(self.queue)
            self.queue.clear()

    def _median_latency(self) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return float(ordered[len(ordered) // 2])

    def _drop_stale_jobs(self, now: datetime) -> None:
        """Jobs of campaigns paused, cancelled or past their end go back before sending."""
        if not self.queue:
            return
        keep, drop = deque(), []
        for job in self.queue:
            view = self.campaigns.get(job.campaign_id)
            (keep if view and view.end_at > now else drop).append(job)
        if drop:
            self._release(drop)
            self.queue = keep

    # --- claiming -------------------------------------------------------------------

    def _claim(self, now: datetime, limit: int) -> None:
        ids = list(self.campaigns)
        if not ids:
            return
        before = len(self.queue)
        # Rotate so every running campaign gets its share of each claim.
        self.rotation = (self.rotation + 1) % len(ids)
        ids = ids[self.rotation :] + ids[: self.rotation]
        per_campaign = max(1, limit // len(ids))
        for campaign_id in ids:
            self._claim_campaign(self.campaigns[campaign_id], now, per_campaign)
        if len(self.queue) == before:
            # Nothing due: look again shortly rather than on every turn of the loop.
            self.next_claim = time.monotonic() + CLAIM_PAUSE_SECONDS

    def _claim_campaign(self, view: CampaignView, now: datetime, limit: int) -> None:
        lease_until = now + timedelta(seconds=lease_seconds())
        with transaction.atomic():
            rows = list(
                Message.objects.filter(
                    campaign_id=view.id, status=MessageStatus.PENDING, next_attempt_at__lte=now
                )
                # Most overdue first, in the order of the partial index of due messages: by id
                # (the model's default), PostgreSQL walks the primary key past every message
                # already sent, or sorts all pending ones, on each claim.
                .order_by("next_attempt_at")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("id", "phone", "client_id", "client__timezone", "attempts")[:limit]
            )
            if not rows:
                return
            claimed = Message.objects.filter(
                id__in=[r[0] for r in rows], status=MessageStatus.PENDING
            ).update(status=MessageStatus.SENDING, lease_token=self.token, lease_until=lease_until)
            adjust_counts(
                view.id, {MessageStatus.PENDING: -claimed, MessageStatus.SENDING: claimed}
            )
            later = self._defer_outside_window(view, rows, now)
        for message_id, phone, client_id, _tz, attempts in rows:
            if message_id not in later:
                self.queue.append(Job(message_id, view.id, phone, client_id, attempts))

    def _defer_outside_window(self, view: CampaignView, rows, now: datetime) -> set[int]:
        """Messages whose client is outside the send window wait for its next opening."""
        if view.window_start is None or view.window_end is None:
            return set()
        by_opening: dict[datetime, list[int]] = {}
        for message_id, _phone, _client_id, tz_name, _attempts in rows:
            opening = next_send_time(now, tz_name or "UTC", view.window_start, view.window_end)
            if opening > now:
                by_opening.setdefault(opening, []).append(message_id)
        deferred: set[int] = set()
        for opening, ids in by_opening.items():
            mine = Message.objects.filter(id__in=ids, lease_token=self.token)
            if opening >= view.end_at:
                n = mine.filter(status=MessageStatus.SENDING).update(
                    status=MessageStatus.EXPIRED,
                    last_error="The client's send window does not open again before the end",
                )
                adjust_counts(view.id, {MessageStatus.SENDING: -n, MessageStatus.EXPIRED: n})
            else:
                n = mine.filter(status=MessageStatus.SENDING).update(
                    status=MessageStatus.PENDING, next_attempt_at=opening, lease_token=None
                )
                adjust_counts(view.id, {MessageStatus.SENDING: -n, MessageStatus.PENDING: n})
            deferred.update(ids)
            log.debug(
                "messages wait for send window campaign_id=%s count=%d until=%s",
                view.id,
                len(ids),
                opening.isoformat(),
            )
        return deferred

    def _release(self, jobs) -> None:
        """Give claimed but unsent messages back to the queue, untouched."""
        by_campaign: dict[int, list[int]] = {}
        for job in jobs:
            by_campaign.setdefault(job.campaign_id, []).append(job.message_id)
        for campaign_id, ids in by_campaign.items():
            with transaction.atomic():
                n = Message.objects.filter(
                    id__in=ids, lease_token=self.token, status=MessageStatus.SENDING
                ).update(status=MessageStatus.PENDING, lease_token=None, lease_until=None)
                adjust_counts(campaign_id, {MessageStatus.SENDING: -n, MessageStatus.PENDING: n})

    # --- sending --------------------------------------------------------------------

    def _submit(self, executor: ThreadPoolExecutor) -> None:
        limit = 1 if self.gate is Gate.PROBE else self.concurrency
        if self.gate is Gate.HOLD:
            return
        while self.queue and len(self.inflight) < limit:
            if self.gate is Gate.PROBE and self.probe_inflight:
                return
            job = self.queue.popleft()
            view = self.campaigns.get(job.campaign_id)
            if view is None:
                self._release([job])
                continue
            if view.end_at <= self.clock():
                self.done.append((job, DEADLINE))
                continue
            if not self.limiter.try_acquire():
                self.queue.appendleft(job)
                return
            if self.gate is Gate.PROBE:
                self.probe_inflight = True
            # Logged here, by the one loop thread, rather than by the 32 sending threads:
            # they would queue on the log handler's lock (bench/README.md, profiles).
            log.info(
                "provider request campaign_id=%s message_id=%s client_id=%s url=%s/send/%s",
                job.campaign_id,
                job.message_id,
                job.client_id,
                self.client.url,
                job.message_id,
            )
            future = executor.submit(self._send, job, view.text, view.end_at)
            self.inflight[future] = job
            future.add_done_callback(self.completed.put)

    def _send(self, job: Job, text: str, end_at: datetime) -> ProviderResult | str:
        # Checked again right before the request: none starts at or after end_at, and its
        # timeouts are capped at the time left.
        time_left = (end_at - self.clock()).total_seconds()
        if time_left <= 0:
            return DEADLINE
        return self.client.send(
            message_id=job.message_id, phone=job.phone, text=text, time_left=time_left
        )

    def _collect(self) -> None:
        """Take every finished request, waiting up to 20 ms for the first one."""
        if not self.inflight:
            return
        try:
            finished = [self.completed.get(timeout=0.02)]
        except queue.Empty:
            return
        while True:
            try:
                finished.append(self.completed.get_nowait())
            except queue.Empty:
                break
        for future in finished:
            self._take(future)

    def _take(self, future: Future) -> None:
        job = self.inflight.pop(future, None)
        if job is None:  # already taken (the loop's end takes futures directly)
            return
        result = future.result()
        self.done.append((job, result))
        if isinstance(result, ProviderResult):
            log.info(
                "provider response campaign_id=%s message_id=%s client_id=%s outcome=%s "
                "http_status=%s duration_ms=%d%s",
                job.campaign_id,
                job.message_id,
                job.client_id,
                result.outcome,
                result.http_status,
                result.duration_ms,
                f" reason={result.reason!r}" if result.reason else "",
            )
            # Judged at once, not at the next flush: a refused token or a dead
            # provider must stop new requests immediately.
            self._judge(result)
        else:
            log.info(
                "provider request not made campaign_id=%s message_id=%s client_id=%s "
                "reason=deadline",
                job.campaign_id,
                job.message_id,
                job.client_id,
            )

    # --- recording ------------------------------------------------------------------

    def _flush(self) -> None:
        if not self.done:
            return
        batch, self.done = self.done, []
        self.last_flush = time.monotonic()
        now = self.clock()
        attempts = []
        for job, result in batch:
            if isinstance(result, ProviderResult):
                attempts.append((job.message_id, result))
                metrics.observe_provider_request(result.outcome, result.duration_ms / 1000)
                self.latencies.append(result.duration_ms)
        with transaction.atomic():
            # A campaign deleted meanwhile took its messages along: skip their attempts.
            alive = set(
                Message.objects.filter(id__in=[a[0] for a in attempts]).values_list("id", flat=True)
            )
            _insert_attempts([a for a in attempts if a[0] in alive])
            for campaign_id, jobs in _group(batch).items():
                self._record_campaign(campaign_id, jobs, now)

    def _record_campaign(self, campaign_id: int, results, now: datetime) -> None:
        view = self.campaigns.get(campaign_id)
        end_at = view.end_at if view else now
        mine = Message.objects.filter(lease_token=self.token)
        moves: dict[str, int] = {}

        def move(ids, from_statuses, to_status, **fields):
            for from_status in from_statuses:
                n = mine.filter(id__in=ids, status=from_status).update(status=to_status, **fields)
                moves[from_status] = moves.get(from_status, 0) - n
                moves[to_status] = moves.get(to_status, 0) + n

        sent = [job.message_id for job, r in results if isinstance(r, ProviderResult) and r.sent]
        if sent:
            # A message cancelled while its request was in flight did reach the provider.
            move(
                sent,
                [MessageStatus.SENDING, MessageStatus.CANCELLED],
                MessageStatus.SENT,
                sent_at=now,
                attempts=F("attempts") + 1,
                last_error="",
                lease_until=None,
            )
        failed_count = 0
        retries: dict[str, int] = {}
        for job, result in results:
            if result == DEADLINE:
                move(
                    [job.message_id],
                    [MessageStatus.SENDING],
                    MessageStatus.EXPIRED,
                    last_error="Deadline passed before the message could be sent",
                )
                continue
            if result.sent:
                continue
            common = {"attempts": F("attempts") + 1, "last_error": result.reason[:500]}
            if result.verdict is Verdict.PERMANENT:
                move([job.message_id], [MessageStatus.SENDING], MessageStatus.FAILED, **common)
                failed_count += 1
                log.warning(
                    "message failed campaign_id=%s message_id=%s client_id=%s reason=%r",
                    campaign_id,
                    job.message_id,
                    job.client_id,
                    result.reason,
                )
                continue
            if result.verdict is Verdict.CREDENTIALS:
                retry_at = now  # held by the gate until the credentials work again
            else:
                wait_for = backoff_seconds(job.attempts + 1)
                if result.retry_after is not None:
                    wait_for = max(wait_for, result.retry_after)
                retry_at = now + timedelta(seconds=wait_for)
            if retry_at >= end_at:
                move(
                    [job.message_id],
                    [MessageStatus.SENDING],
                    MessageStatus.EXPIRED,
                    attempts=F("attempts") + 1,
                    last_error=f"{result.reason} (no retry possible before the end)"[:500],
                )
                continue
            move(
                [job.message_id],
                [MessageStatus.SENDING],
                MessageStatus.PENDING,
                next_attempt_at=retry_at,
                lease_token=None,
                lease_until=None,
                **common,
            )
            retries[result.outcome] = retries.get(result.outcome, 0) + 1
            log.info(
                "message retry scheduled campaign_id=%s message_id=%s client_id=%s at=%s reason=%r",
                campaign_id,
                job.message_id,
                job.client_id,
                retry_at.isoformat(),
                result.reason,
            )
        adjust_counts(campaign_id, moves)
        record_sends(campaign_id, sent=moves.get(MessageStatus.SENT, 0), failed=failed_count)
        for outcome, n in retries.items():
            metrics.count_retry(outcome, n)

    def _judge(self, result: ProviderResult) -> None:
        now = self.clock()
        if result.verdict is Verdict.CREDENTIALS:
            if self.gate is not Gate.HOLD or self.probe_inflight:
                circuit.reject_credentials(now, fingerprint=self.fingerprint, detail=result.reason)
            self.gate = Gate.HOLD
            self.probe_inflight = False
            return
        failed = result.verdict is Verdict.TRANSIENT
        if self.probe_inflight:
            self.probe_inflight = False
            # The probe asks whether the provider is up: any answer from it says yes, even
            # a malformed one (that message is retried as usual). One unlucky answer from a
            # flaky provider must not double the hold.
            if result.unreachable:
                circuit.trip(now, f"probe failed: {result.reason}")
                self.gate = Gate.HOLD
            else:
                circuit.close(now)
                self.failures.clear()
                self.gate = Gate.GO
            return
        self.failures.add(failed)
        if failed and self.gate is Gate.GO and self.failures.should_trip():
            circuit.trip(now, f"most recent requests failed ({result.reason})")
            self.failures.clear()
            self.gate = Gate.HOLD


def _insert_attempts(attempts: list[tuple[int, ProviderResult]]) -> None:
    """One row per request. Plain executemany: bulk_create's per-row model work was
    most of the flush's CPU at a thousand messages a second (bench/README.md)."""
    if not attempts:
        return
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    columns = (
        "message_id",
        "started_at",
        "duration_ms",
        "http_status",
        "outcome",
        "response_excerpt",
    )
    # Only quoted model identifiers are formatted in; every value is a parameter.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(DeliveryAttempt._meta.db_table),
        ", ".join(quote(c) for c in columns),
        ", ".join(["%s"] * len(columns)),
    )
    # The column's length, as bulk_create would have checked: the excerpt is cut by the
    # provider client already, but a raw INSERT of a longer one fails the whole flush.
    excerpt_length = DeliveryAttempt._meta.get_field("response_excerpt").max_length
    rows = [
        (
            message_id,
            adapt(r.started_at),
            r.duration_ms,
            r.http_status,
            r.outcome,
            r.excerpt[:excerpt_length],
        )
        for message_id, r in attempts
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _group(batch) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for job, result in batch:
        grouped.setdefault(job.campaign_id, []).append((job, result))
    return grouped
