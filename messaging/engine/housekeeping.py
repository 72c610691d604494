"""Retention: the daily task that deletes old rows so the database stops growing.

What goes, each after its own RETENTION_*_DAYS (0 keeps it forever):
- delivery attempts older than RETENTION_ATTEMPTS_DAYS (by when they started);
- messages of campaigns finished or cancelled more than RETENTION_MESSAGES_DAYS ago
  (their attempts go with them);
- per-minute send buckets older than RETENTION_SEND_BUCKETS_DAYS;
- django-q2 task results, failures included, older than RETENTION_TASK_RESULTS_DAYS
  (django-q2's save_limit only prunes successes);
- sessions that expired more than RETENTION_SESSIONS_DAYS ago;
- "send a test" records older than RETENTION_MESSAGES_DAYS (they are messages too);
- audit events (sign-ins, failures, lockouts, token changes) older than
  RETENTION_AUDIT_DAYS, a year by default: an audit trail is kept longer than the rest.

Campaign totals survive: statistics, /api/stats/, the dashboard, /metrics and the
daily report read the per-campaign counters (CampaignCounts), which only move
when a message changes status, never when a row is deleted here.

Every DELETE touches at most RETENTION_BATCH_SIZE rows found through an index or
a primary-key range, in its own short transaction, so no lock is held for long and
the hot tables are never scanned. A run stops after RETENTION_MAX_SECONDS, or at
once when the worker is asked to stop, and queues itself again if rows are left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from messaging.engine import shutdown
from messaging.models import (
    Campaign,
    CampaignStatus,
    DeliveryAttempt,
    Message,
    PendingImport,
    RejectedRows,
    SendBucket,
    TestSend,
)
from messaging.models.counters import lock_campaigns
from messaging.models.messages import FINAL_STATUSES
from messaging.reporting import metrics
from security.models import AuditEvent

log = logging.getLogger(__name__)

# A quiet hour for most deployments (UTC); the schedule can be moved in the admin.
RUN_AT = time_of_day(3, 30)

KINDS = (
    "messages",
    "delivery_attempts",
    "send_buckets",
    "task_results",
    "sessions",
    "test_sends",
    "audit_events",
    "uploads",
)


@dataclass
class RetentionResult:
    """What one run removed: totals by kind, and each batch (kind, rows) in order."""

    deleted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    batches: list[tuple[str, int]] = field(default_factory=list)
    finished: bool = True

    def add(self, kind: str, n: int) -> None:
        if n:
            self.deleted[kind] += n
            self.batches.append((kind, n))
            metrics.count_retention_deleted(kind, n)


class _OutOfTime(Exception):
    pass


class _Run:
    def __init__(self, *, now: datetime, batch_size: int, max_seconds: float) -> None:
        self.now = now
        self.batch_size = batch_size
        self.deadline = time.monotonic() + max_seconds
        self.result = RetentionResult()

    def cutoff(self, days: int) -> datetime | None:
        return self.now - timedelta(days=days) if days > 0 else None

    def check_time(self) -> None:
        # A worker asked to stop must exit within 30 s: the rest waits for another run.
        if time.monotonic() >= self.deadline or shutdown.requested():
            raise _OutOfTime

    # --- messages of old campaigns (and their attempts) ---------------------------

    def old_campaign_messages(self) -> None:
        cutoff = self.cutoff(settings.RETENTION_MESSAGES_DAYS)
        if cutoff is None:
            return
        campaign_ids = list(
            Campaign.objects.filter(
                status__in=(CampaignStatus.FINISHED, CampaignStatus.CANCELLED),
                finished_at__lt=cutoff,
            )
            .order_by("id")
            .values_list("id", flat=True)
        )
        for campaign_id in campaign_ids:
            removed = 0
            while True:
                self.check_time()
                n = self._campaign_batch(campaign_id, cutoff)
                removed += n
                if n < self.batch_size:
                    break
            if removed:
                log.info(
                    "retention: messages deleted count=%d",
                    removed,
                    extra={"campaign_id": campaign_id},
                )

    def _campaign_batch(self, campaign_id: int, cutoff: datetime) -> int:
        with transaction.atomic():
            # Lock the campaign as every status change does (campaign row first, then its
            # messages): an edit that reopens it waits, or we see it reopened and stop.
            still_closed = lock_campaigns([campaign_id]) and (
                Campaign.objects.filter(
                    pk=campaign_id,
                    status__in=(CampaignStatus.FINISHED, CampaignStatus.CANCELLED),
                    finished_at__lt=cutoff,
                ).exists()
            )
            if not still_closed:
                return 0
            # Index message_campaign_status; only final messages (none other is left in a
            # closed campaign, but a row must never leave the counters' ledger unsettled).
            ids = list(
                Message.objects.filter(campaign_id=campaign_id, status__in=FINAL_STATUSES)
                .order_by()
                .values_list("id", flat=True)[: self.batch_size]
            )
            if not ids:
                return 0
            attempts, _ = DeliveryAttempt.objects.filter(message_id__in=ids).delete()
            messages, _ = Message.objects.filter(id__in=ids).delete()
        self.result.add("delivery_attempts", attempts)
        self.result.add("messages", messages)
        return len(ids)

    # --- delivery attempts by age: primary-key ranges -------------------------------

    def old_attempts(self) -> None:
        cutoff = self.cutoff(settings.RETENTION_ATTEMPTS_DAYS)
        if cutoff is not None:
            self.by_id_range("delivery_attempts", DeliveryAttempt, started_at__lt=cutoff)

    def old_test_sends(self) -> None:
        cutoff = self.cutoff(settings.RETENTION_MESSAGES_DAYS)
        if cutoff is not None:
            self.by_id_range("test_sends", TestSend, created_at__lt=cutoff)

    def by_id_range(self, kind: str, model, **older) -> None:
        # Rows inserted in time order have ids that follow their time closely: walk the
        # primary key from the oldest row in ranges of batch_size ids and stop at the
        # first range holding nothing old enough (stragglers go the next day). Each
        # DELETE reads one id range of the primary-key index, never the whole table.
        for low in self._id_ranges(model):
            self.check_time()
            in_range = model.objects.filter(id__gte=low, id__lt=low + self.batch_size)
            n, _ = in_range.filter(**older).delete()
            self.result.add(kind, n)
            if not n:
                return

    def _id_ranges(self, model) -> Iterator[int]:
        low = model.objects.order_by("id").values_list("id", flat=True).first()
        while low is not None:
            yield low
            low = (
                model.objects.filter(id__gte=low + self.batch_size)
                .order_by("id")
                .values_list("id", flat=True)
                .first()
            )

    # --- rows found by an indexed column -------------------------------------------------

    def by_index(self, kind: str, queryset_for: Callable[[], QuerySet], delete_ids) -> None:
        while True:
            self.check_time()
            ids = list(queryset_for()[: self.batch_size])
            if not ids:
                return
            n = delete_ids(ids)
            self.result.add(kind, n)
            if len(ids) < self.batch_size:
                return

    def old_send_buckets(self) -> None:
        cutoff = self.cutoff(settings.RETENTION_SEND_BUCKETS_DAYS)
        if cutoff is None:
            return
        self.by_index(
            "send_buckets",
            # Index sendbucket_minute.
            lambda: (
                SendBucket.objects.filter(minute__lt=cutoff)
                .order_by("minute")
                .values_list("id", flat=True)
            ),
            lambda ids: SendBucket.objects.filter(id__in=ids).delete()[0],
        )

    def old_task_results(self) -> None:
        from django_q.models import Task

        cutoff = self.cutoff(settings.RETENTION_TASK_RESULTS_DAYS)
        if cutoff is None:
            return
        # django-q2's table holds at most Q_CLUSTER["save_limit"] successes plus the
        # failures: small next to the messages, and not written by the sending path.
        self.by_index(
            "task_results",
            lambda: Task.objects.filter(stopped__lt=cutoff).order_by().values_list("id", flat=True),
            lambda ids: Task.objects.filter(id__in=ids).delete()[0],
        )

    def expired_sessions(self) -> None:
        cutoff = self.cutoff(settings.RETENTION_SESSIONS_DAYS)
        if cutoff is None or settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
            return
        from django.contrib.sessions.models import Session

        self.by_index(
            "sessions",
            # expire_date is indexed.
            lambda: (
                Session.objects.filter(expire_date__lt=cutoff)
                .order_by()
                .values_list("session_key", flat=True)
            ),
            lambda keys: Session.objects.filter(session_key__in=keys).delete()[0],
        )

    def old_uploads(self) -> None:
        # Files waiting for their columns to be matched and rejected rows waiting to be
        # downloaded are a day's convenience, not records; a new upload cleans its own
        # kind too, but nobody may upload again, so the daily run is what bounds them.
        for model in (PendingImport, RejectedRows):
            cutoff = self.now - model.KEEP
            self.by_index(
                "uploads",
                # Index on created_at. (mypy infers no type for a lambda over two models.)
                lambda model=model, cutoff=cutoff: (  # type: ignore[misc]
                    model.objects.filter(created_at__lt=cutoff)
                    .order_by()
                    .values_list("id", flat=True)
                ),
                lambda ids, model=model: model.objects.filter(id__in=ids).delete()[0],
            )

    def old_audit_events(self) -> None:
        cutoff = self.cutoff(settings.RETENTION_AUDIT_DAYS)
        if cutoff is None:
            return
        self.by_index(
            "audit_events",
            # Index audit_latest_first (at, id).
            lambda: (
                AuditEvent.objects.filter(at__lt=cutoff).order_by().values_list("id", flat=True)
            ),
            lambda ids: AuditEvent.objects.filter(id__in=ids).delete()[0],
        )


def purge(
    *, now: datetime | None = None, batch_size: int | None = None, max_seconds: float | None = None
) -> RetentionResult:
    """Delete what the retention settings no longer keep; returns what was removed."""
    run = _Run(
        now=now or timezone.now(),
        batch_size=batch_size or settings.RETENTION_BATCH_SIZE,
        max_seconds=settings.RETENTION_MAX_SECONDS if max_seconds is None else max_seconds,
    )
    steps = (
        run.old_campaign_messages,
        run.old_attempts,
        run.old_send_buckets,
        run.old_task_results,
        run.expired_sessions,
        run.old_test_sends,
        run.old_audit_events,
        run.old_uploads,
    )
    try:
        for step in steps:
            step()
    except _OutOfTime:
        run.result.finished = False
    result = run.result
    log.info(
        "retention: removed %s%s",
        " ".join(f"{kind}={n}" for kind, n in result.deleted.items()),
        "" if result.finished else " (time is up; the rest follows in another run)",
    )
    return result


def next_run(now: datetime) -> datetime:
    """When the daily run is next due (RUN_AT, UTC)."""
    run = datetime.combine(now.astimezone(UTC).date(), RUN_AT, tzinfo=UTC)
    return run if run > now else run + timedelta(days=1)
