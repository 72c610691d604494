"""Applying a sender's outcomes: delivery attempts, statuses, counters, send buckets.

Decisions come from `outcomes.decide`; every status move goes through the gateway
(`status_changes`), which locks the campaigns in id order. Recording never dies on
a transient database error (a deadlock, a serialization failure, a lock timeout,
SQLite busy): it is retried while the sender's leases hold. When the database is
away altogether (`core/outage.py`), nothing is decided about the messages: the
outcomes not recorded come back to the sender (`Unrecorded`), which holds them until
the database answers again. Anything else is isolated: the batch is recorded message
by message, and one message that cannot be recorded fails alone with a clear reason
(a send the provider accepted is still recorded as sent).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import DatabaseError, OperationalError, connection
from django.db.models import Case, F, Value, When

from core import outage
from core.logs import ids
from messaging.engine.outcomes import Action, Decision, Outcome, decide
from messaging.models import Campaign, DeliveryAttempt, Message, MessageStatus
from messaging.models.counters import StatusChanges, record_sends, status_changes
from messaging.reporting import metrics

log = logging.getLogger(__name__)

# PostgreSQL: deadlock_detected, serialization_failure, lock_not_available.
TRANSIENT_SQLSTATES = {"40P01", "40001", "55P03"}
RETRY_PAUSE_SECONDS = (0.05, 0.1, 0.2, 0.5, 1.0)


def is_transient(exc: BaseException) -> bool:
    """A database error that goes away when the transaction is simply tried again."""
    if not isinstance(exc, OperationalError):
        return False
    if getattr(exc.__cause__, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


# Statuses an accepted send may find its message in: in flight, or moved on by
# others meanwhile (cancelled, reclaimed after a lease, expired, failed by a later
# try). Accepted is final, so it wins over each of them; `sent` is never left. In
# flight comes first: the others are tried only for the messages it did not move.
ACCEPTED_FROM = [
    MessageStatus.SENDING,
    MessageStatus.CANCELLED,
    MessageStatus.PENDING,
    MessageStatus.EXPIRED,
    MessageStatus.FAILED,
]


class Unrecorded(Exception):
    """The database is away: these outcomes were not recorded (the cause says why)."""

    def __init__(self, outcomes: Sequence[Outcome]) -> None:
        super().__init__(f"{len(outcomes)} outcomes not recorded: the database is unreachable")
        self.outcomes = list(outcomes)


def record(
    outcomes: Sequence[Outcome],
    *,
    token: uuid.UUID,
    clock: Callable[[], datetime],
    retry_until: float,
) -> None:
    """Record `outcomes`. `retry_until` (monotonic) bounds transient retries. Raises only
    `Unrecorded`, with the outcomes left, when the database is unreachable."""
    if not outcomes:
        return
    try:
        _with_retries(outcomes, token, clock, retry_until)
    except Exception as exc:
        if outage.unreachable(exc):
            raise Unrecorded(outcomes) from exc
        if len(outcomes) == 1:
            _record_alone_after_error(outcomes[0], token, clock, exc)
            return
        log.warning(
            "recording a batch of %d outcomes failed (%s: %s); recording them one by one",
            len(outcomes),
            type(exc).__name__,
            exc,
        )
        for done, outcome in enumerate(outcomes):
            try:
                record([outcome], token=token, clock=clock, retry_until=retry_until)
            except Unrecorded as away:
                raise Unrecorded(outcomes[done:]) from away.__cause__


def _with_retries(outcomes, token, clock, retry_until: float) -> None:
    tries = 0
    while True:
        try:
            _record_once(outcomes, token, clock())
            return
        except DatabaseError as exc:
            if not is_transient(exc) or time.monotonic() >= retry_until:
                raise
            pause = RETRY_PAUSE_SECONDS[min(tries, len(RETRY_PAUSE_SECONDS) - 1)]
            tries += 1
            log.warning(
                "recording hit a transient database error, trying again in %.2fs "
                "(try %d, %d outcomes): %s",
                pause,
                tries,
                len(outcomes),
                exc,
            )
            connection.close_if_unusable_or_obsolete()
            time.sleep(pause)


def _record_once(outcomes: Sequence[Outcome], token: uuid.UUID, now: datetime) -> None:
    by_campaign: dict[int, list[Outcome]] = {}
    for outcome in outcomes:
        by_campaign.setdefault(outcome.job.campaign_id, []).append(outcome)
    with status_changes(by_campaign) as changes:
        # A campaign deleted meanwhile took its messages along: nothing to record.
        ends = dict(
            Campaign.objects.filter(id__in=changes.campaign_ids).values_list("id", "end_at")
        )
        requested = [
            (o.job.message_id, o.result)
            for cid in changes.campaign_ids
            for o in by_campaign[cid]
            if o.result is not None
        ]
        insert_attempts(requested)
        for campaign_id in changes.campaign_ids:
            decided = [
                (o, decide(o, now=now, end_at=ends[campaign_id])) for o in by_campaign[campaign_id]
            ]
            _apply(changes, campaign_id, decided, token, now)


def _apply(
    changes: StatusChanges,
    campaign_id: int,
    decided: list[tuple[Outcome, Decision]],
    token: uuid.UUID,
    now: datetime,
) -> None:
    by_action: dict[Action, list[tuple[Outcome, Decision]]] = {}
    for outcome, decision in decided:
        by_action.setdefault(decision.action, []).append((outcome, decision))

    sent = 0
    if Action.SENT in by_action:
        ids = [o.job.message_id for o, _ in by_action[Action.SENT]]
        # Nearly always all of them were in flight: one UPDATE (see ACCEPTED_FROM).
        sent = changes.move_listed(
            campaign_id,
            ids,
            ACCEPTED_FROM,
            MessageStatus.SENT,
            sent_at=now,
            attempts=F("attempts") + 1,
            last_error="",
            lease_until=None,
        )
    failed = 0
    for action, to_status in (
        (Action.FAIL, MessageStatus.FAILED),
        (Action.EXPIRE, MessageStatus.EXPIRED),
        (Action.RETRY, MessageStatus.PENDING),
        (Action.HOLD, MessageStatus.PENDING),
    ):
        items = by_action.get(action)
        if not items:
            continue
        fields = {"last_error": _per_message(items, "last_error", lambda d: d.reason)}
        counted = [o.job.message_id for o, d in items if d.counts_attempt]
        if counted:
            fields["attempts"] = Case(
                When(id__in=counted, then=F("attempts") + 1),
                default=F("attempts"),
                output_field=Message._meta.get_field("attempts"),
            )
        if to_status == MessageStatus.PENDING:
            fields.update(
                next_attempt_at=_per_message(items, "next_attempt_at", lambda d: d.retry_at),
                lease_token=None,
                lease_until=None,
            )
        moved = changes.move_listed(
            campaign_id,
            [o.job.message_id for o, _ in items],
            [MessageStatus.SENDING],
            to_status,
            held_by=token,
            **fields,
        )
        if action is Action.FAIL:
            failed = moved
        _log_decisions(campaign_id, action, items)
        if action is Action.RETRY:
            retries: dict[str, int] = {}
            for outcome, _ in items:
                # A retry follows a request, so it has a result.
                retries[outcome.result.outcome] = retries.get(outcome.result.outcome, 0) + 1  # type: ignore[union-attr]
            for reason, n in retries.items():
                metrics.count_retry(reason, n)
    record_sends(campaign_id, sent=sent, failed=failed, at=now)


def _per_message(items, field: str, value_of):
    """One value for all when they agree, else a CASE by message id (one UPDATE either way)."""
    values = {value_of(d) for _, d in items}
    if len(values) == 1:
        return values.pop()
    # get_field may return a relation in general; these are the message's own columns.
    output_field: Any = Message._meta.get_field(field)
    return Case(
        *(
            When(id=o.job.message_id, then=Value(value_of(d), output_field=output_field))
            for o, d in items
        ),
        output_field=output_field,
    )


def _log_decisions(campaign_id: int, action: Action, items) -> None:
    for outcome, decision in items:
        job = outcome.job
        if action is Action.FAIL:
            log.warning("message failed reason=%r", decision.reason, extra=ids(job))
        elif action is Action.RETRY:
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "message retry scheduled at=%s reason=%r",
                    decision.retry_at.isoformat(),
                    decision.reason,
                    extra=ids(job),
                )
        elif action is Action.EXPIRE and log.isEnabledFor(logging.INFO):
            log.info("message expired reason=%r", decision.reason, extra=ids(job))


def _record_alone_after_error(outcome: Outcome, token, clock, error: Exception) -> None:
    """The last resort for one message whose recording raised: fail it alone, clearly.

    A send the provider accepted is still recorded as sent (without its attempt row).
    """
    job = outcome.job
    log.error(
        "could not record the result of a message error=%s: %s",
        type(error).__name__,
        error,
        extra=ids(job),
    )
    accepted = outcome.result is not None and outcome.result.sent
    try:
        with status_changes([job.campaign_id]) as changes:
            if accepted:
                changes.move_listed(
                    job.campaign_id,
                    [job.message_id],
                    ACCEPTED_FROM,
                    MessageStatus.SENT,
                    sent_at=clock(),
                    attempts=F("attempts") + 1,
                    last_error="",
                    lease_until=None,
                )
            else:
                changes.move_listed(
                    job.campaign_id,
                    [job.message_id],
                    [MessageStatus.SENDING],
                    MessageStatus.FAILED,
                    held_by=token,
                    last_error=f"Could not record the result: {type(error).__name__}"[:500],
                )
    except Exception as exc:
        if outage.unreachable(exc):
            raise Unrecorded([outcome]) from exc
        # Left in flight: its lease runs out and it is sent again (at-least-once).
        log.exception("could not fail the message either", extra=ids(job))


def insert_attempts(attempts: list) -> None:
    """One row per request, in one statement: bulk_create's per-row model work was most
    of the flush's CPU (bench/README.md). PostgreSQL takes the columns as arrays
    (`unnest`: one statement, planned once, instead of a statement per row); SQLite an
    executemany (its C loop over one prepared statement).

    The caller passes only messages of campaigns it has locked and found: messages go
    only with their campaign (a delete, or retention, both under the same lock), so no
    query is needed to check they still exist.
    """
    if not attempts:
        return
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    # The column's length, as bulk_create would have checked: a longer excerpt would
    # fail the whole flush.
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
    table = quote(DeliveryAttempt._meta.db_table)
    names = ", ".join(quote(column) for column, _ in _ATTEMPT_COLUMNS)
    # Only quoted model identifiers and fixed types are formatted in; values are parameters.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for _, kind in _ATTEMPT_COLUMNS)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})",  # noqa: S608
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            values = ", ".join(["%s"] * len(_ATTEMPT_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({values})", rows)  # noqa: S608


# The delivery attempt's columns as insert_attempts writes them, with PostgreSQL's types.
_ATTEMPT_COLUMNS = (
    ("message_id", "bigint"),
    ("started_at", "timestamptz"),
    ("duration_ms", "integer"),
    ("http_status", "smallint"),
    ("outcome", "text"),
    ("response_excerpt", "text"),
)
