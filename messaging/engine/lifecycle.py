"""A campaign's time: `step(now)` decides what starts, what expires and what finishes.

`step` is the one owner of time: the worker's clock (engine/clock.py) calls it every
half second, and django-q2's schedules (the minute's tick, each campaign's start and
end, the engine's wake-up: messaging/tasks.py) call it as the fallback. The services
call it for the one campaign they just saved, so an operation leaves a due campaign
started. Nothing else starts, expires or finishes a campaign: the senders only send
what is running.

Each part is idempotent and safe to run from several workers at once: they claim
their rows with conditional UPDATEs or row locks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, QuerySet

from messaging.campaigns import audience
from messaging.campaigns.audience import WINDOW_CLOSED_TO_THE_END
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.models.campaigns import TRANSITIONS, TransitionRefused
from messaging.models.counters import add_pending, move_messages

log = logging.getLogger(__name__)


@dataclass
class Stepped:
    """What one step did: the campaigns it started and finished, the messages it expired."""

    started: list[int] = field(default_factory=list)
    expired: int = 0
    finished: list[int] = field(default_factory=list)


def step(now: datetime, *, campaign_id: int | None = None) -> Stepped:
    """Start the due campaigns, expire the pending messages of those past their end,
    finish those with nothing left.

    With `campaign_id` (what the services ask right after an operation on it), only that
    campaign's start: expiring and finishing stay with the clock's step, so an operation's
    answer reads `running`, never a `finished` a campaign of no recipients reaches a
    moment later.
    """
    if campaign_id is not None:
        return Stepped(started=start_due_campaigns(now, Campaign.objects.filter(pk=campaign_id)))
    started = start_due_campaigns(now)
    expired = expire_overdue(now)
    return Stepped(started, expired, finish_done(now))


def select_targets(campaign: Campaign, now: datetime) -> int:
    """Create one pending message per recipient; a second call creates none.

    One INSERT ... SELECT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL), so a
    million targets never pass through Python and a repeat is a no-op. The SELECT is
    `audience.recipients` compiled by the ORM: the review's count and the messages
    created come from the same query.
    """
    message_table = Message._meta.db_table
    clients, client_params = (
        audience.recipients(campaign).order_by().values("id", "phone").query.sql_with_params()
    )
    # Raw SQL bypasses the field's conversion: store the time as the ORM would.
    stamp = connection.ops.adapt_datetimefield_value(now)
    sql = (
        f"INSERT INTO {message_table} "  # noqa: S608 (table names from models, values as params)
        "(campaign_id, client_id, phone, status, created_at, next_attempt_at, "
        "attempts, last_error) "
        f"SELECT %s, c.id, c.phone, %s, %s, %s, 0, '' FROM ({clients}) c "
        # SQLite needs a WHERE before ON CONFLICT to parse an INSERT ... SELECT upsert.
        "WHERE 1 = 1 "
        "ON CONFLICT (campaign_id, client_id) DO NOTHING"
    )
    params = [campaign.pk, MessageStatus.PENDING, stamp, stamp, *client_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = max(cursor.rowcount, 0)
    add_pending(campaign.pk, created)
    return created


def start_campaign(campaign_id: int, now: datetime) -> bool:
    """Select the targets of a due scheduled campaign and mark it running (a part of
    `step`)."""
    try:
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
            if (
                campaign is None
                or campaign.status != CampaignStatus.SCHEDULED
                or campaign.start_at > now
            ):
                return False
            # Who the rules leave out, counted as the targets are selected (the campaign
            # page shows it; the clients may change afterwards).
            left_out = [
                {"code": item.code, "count": item.count} for item in audience.left_out(campaign)
            ]
            created = select_targets(campaign, now)
            campaign.move(
                "start",
                CampaignStatus.RUNNING,
                targets_selected_at=now,
                left_out_at_start=left_out,
            )
    except TransitionRefused:
        # Paused or cancelled since it was read (SQLite locks no row): its targets are
        # rolled back with the refused move, and it starts when it may again.
        return False
    log.info("campaign started messages_created=%d", created, extra={"campaign_id": campaign_id})
    return True


def start_due_campaigns(now: datetime, campaigns: QuerySet | None = None) -> list[int]:
    campaigns = Campaign.objects.all() if campaigns is None else campaigns
    due = campaigns.filter(status=CampaignStatus.SCHEDULED, start_at__lte=now)
    return [cid for cid in due.values_list("id", flat=True) if start_campaign(cid, now)]


def expire_overdue(now: datetime) -> int:
    """At end_at every pending message becomes expired (in-flight ones finish their request)."""
    expired = 0
    overdue = Campaign.objects.filter(
        status__in=(CampaignStatus.RUNNING, CampaignStatus.PAUSED), end_at__lte=now
    )
    for campaign_id in overdue.values_list("id", flat=True):
        n = move_messages(
            Message.objects.filter(campaign_id=campaign_id),
            [MessageStatus.PENDING],
            MessageStatus.EXPIRED,
            last_error="Deadline passed before the message could be sent",
        )
        if n:
            log.info("messages expired count=%d", n, extra={"campaign_id": campaign_id})
        expired += n
    return expired


def finish_done(now: datetime) -> list[int]:
    """Mark finished every started campaign with nothing pending or in flight.

    Not before its end while some of its messages expired early because their client's
    send window does not open before the end: an edit of the window or the end may still
    give them a chance, and "Finished" minutes before the end would read as if the
    campaign had run its course.
    """
    finished = []
    waiting_for_end = Message.objects.filter(
        campaign_id=OuterRef("pk"),
        status=MessageStatus.EXPIRED,
        last_error=WINDOW_CLOSED_TO_THE_END,
    )
    candidates = Campaign.objects.filter(
        status__in=TRANSITIONS["finish"].allowed_from,
        targets_selected_at__isnull=False,
        counts__pending=0,
        counts__sending=0,
    )
    for campaign_id, status, end_at in candidates.values_list("id", "status", "end_at"):
        if end_at > now:
            if status == CampaignStatus.PAUSED:
                continue  # a paused campaign still before its deadline may get retries back
            if Campaign.objects.filter(pk=campaign_id).filter(Exists(waiting_for_end)).exists():
                continue
        # Conditional on the status read: a campaign resumed or cancelled meanwhile stays so.
        if Campaign.objects.filter(pk=campaign_id, status=status).move(
            "finish", CampaignStatus.FINISHED, finished_at=now
        ):
            log.info("campaign finished", extra={"campaign_id": campaign_id})
            finished.append(campaign_id)
    return finished


def reclaim_expired_leases(now: datetime) -> int:
    """Messages held by a worker that died go back to the queue (same msgId, sent again)."""
    n = move_messages(
        Message.objects.filter(status=MessageStatus.SENDING, lease_until__lt=now),
        [MessageStatus.SENDING],
        MessageStatus.PENDING,
        lease_token=None,
        lease_until=None,
        next_attempt_at=now,
    )
    if n:
        log.warning("reclaimed %d messages whose worker lease expired", n)
    return n


def has_due_work(now: datetime) -> bool:
    """Whether a sender has something to do now: a campaign due to start (the clock's
    step starts it within half a second), or a due message of a campaign before its end."""
    if Campaign.objects.filter(
        status=CampaignStatus.SCHEDULED, start_at__lte=now, end_at__gt=now
    ).exists():
        return True
    # Per campaign, so the partial index on pending messages serves the query.
    return any(
        Message.objects.pending(campaign_id).due(now).exists() for campaign_id in _running_ids(now)
    )


def _running_ids(now: datetime) -> list[int]:
    """Running campaigns before their end (past it, what is pending waits for the step
    that expires it, not for a sender)."""
    running = Campaign.objects.filter(status=CampaignStatus.RUNNING, end_at__gt=now)
    return list(running.values_list("id", flat=True))


def work_ahead(now: datetime, within: timedelta) -> str | bool:
    """What a sender has ahead: "now" (a start or a message is due), "soon" (due within
    `within`), or False (nothing: it may end)."""
    if has_due_work(now):
        return "now"
    upcoming = next_due_at(now)
    return "soon" if upcoming is not None and upcoming <= now + within else False


def next_due_at(now: datetime) -> datetime | None:
    """The earliest moment work becomes due later: a start or a waiting message."""
    times = []
    start = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, start_at__gt=now).aggregate(
        t=Min("start_at")
    )["t"]
    if start:
        times.append(start)
    for campaign_id in _running_ids(now):
        waiting = Message.objects.pending(campaign_id).aggregate(t=Min("next_attempt_at"))["t"]
        if waiting:
            times.append(max(waiting, now))
    return min(times) if times else None
