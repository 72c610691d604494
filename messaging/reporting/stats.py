"""Every figure Herald shows, read in one place: from the counters and the per-minute
buckets, never by scanning messages (the one count of messages, the backlog due now, goes
through the senders' partial index).

The API's stats endpoints, the dashboard, the daily report and /metrics all read their
figures here; they only arrange and word them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django_q.models import OrmQ

from core import database
from core.database import table_estimate
from messaging.models import (
    Campaign,
    CampaignCounts,
    CampaignStatus,
    Client,
    Message,
    SendBucket,
)
from messaging.models.counters import COUNT_FIELDS

# Campaigns the dashboard lists as sending (running or paused), newest first.
LIVE_CAMPAIGNS_SHOWN = 20


def counts_of(counts: CampaignCounts | None) -> dict[str, int]:
    """A campaign's messages by status (all zero before it has counters)."""
    if counts is None:
        return dict.fromkeys((s.value for s in COUNT_FIELDS), 0)
    return counts.as_dict()


# --- Messages and campaigns by status ---------------------------------------------


def message_totals() -> dict[str, int]:
    """Messages by status over every campaign, summed from the per-campaign counters."""
    row = CampaignCounts.objects.aggregate(**{field: Sum(field) for field in COUNT_FIELDS.values()})
    return {status.value: row[field] or 0 for status, field in COUNT_FIELDS.items()}


def campaigns_by_status() -> dict[str, int]:
    """How many campaigns are in each status (every status present, zero when none)."""
    by_status = dict.fromkeys(CampaignStatus.values, 0)
    for row in Campaign.objects.order_by().values("status").annotate(n=Count("id")):
        by_status[row["status"]] = row["n"]
    return by_status


def client_count() -> tuple[int, bool]:
    """How many clients, and whether that is an estimate (from ESTIMATE_FROM on)."""
    estimate = table_estimate(Client)
    if estimate is not None and estimate >= database.ESTIMATE_FROM:
        return estimate, True
    return Client.objects.count(), False


def live_campaigns() -> list[Campaign]:
    """The running campaigns, newest first, with their counters (paused ones are counted
    on the dashboard's figures and listed on the campaign list)."""
    return list(
        Campaign.objects.filter(status=CampaignStatus.RUNNING)
        .select_related("counts", "paused_by")
        .order_by("-id")[:LIVE_CAMPAIGNS_SHOWN]
    )


def campaigns_active_between(start: datetime, end: datetime) -> list[Campaign]:
    """Campaigns whose sending time overlaps [start, end) and not finished before `start`,
    in start order, with their counters (what the daily report covers)."""
    return list(
        Campaign.objects.filter(start_at__lt=end, end_at__gt=start)
        .exclude(status=CampaignStatus.DRAFT)  # never sent anything
        .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=start))
        .select_related("counts")
        .order_by("start_at", "id")
    )


# --- Sends per minute ---------------------------------------------------------------


def _last_two_minutes(now: datetime | None):
    """This clock minute and the previous one, and the buckets of both."""
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    previous_minute = minute - timedelta(minutes=1)
    buckets = SendBucket.objects.filter(minute__gte=previous_minute, minute__lte=minute)
    return minute, previous_minute, buckets.order_by()


def _minute_figures(minute: datetime, previous_minute: datetime, by_minute: dict) -> dict:
    return {
        "minute_start": minute,
        "sent_this_minute": by_minute.get(minute) or 0,
        "sent_previous_minute": by_minute.get(previous_minute) or 0,
    }


def sends_by_minute(campaign_id: int | None = None, *, now=None) -> dict:
    """Messages sent in the current clock minute so far and in the previous whole one.

    Exact counts of the per-minute buckets (UTC clock minutes, as the engine records
    them), not an estimate of "the last 60 seconds": a bucket has no finer time inside it.
    """
    minute, previous_minute, buckets = _last_two_minutes(now)
    if campaign_id is not None:
        buckets = buckets.filter(campaign_id=campaign_id)
    by_minute = dict(buckets.values_list("minute").annotate(n=Sum("sent")))
    return _minute_figures(minute, previous_minute, by_minute)


def sends_by_minute_per_campaign(campaign_ids: list[int], *, now=None) -> dict[int, dict]:
    """sends_by_minute for several campaigns in one query (the dashboard's live ones)."""
    minute, previous_minute, buckets = _last_two_minutes(now)
    rows = (
        buckets.filter(campaign_id__in=campaign_ids)
        .values_list("campaign_id", "minute")
        .annotate(n=Sum("sent"))
    )
    by_campaign: dict[int, dict] = {campaign_id: {} for campaign_id in campaign_ids}
    for campaign_id, bucket_minute, n in rows:
        by_campaign[campaign_id][bucket_minute] = n
    return {
        campaign_id: _minute_figures(minute, previous_minute, by_minute)
        for campaign_id, by_minute in by_campaign.items()
    }


def sent_and_failed_per_minute(first: datetime, last: datetime) -> dict[datetime, tuple[int, int]]:
    """(sent, failed) of every campaign in each clock minute from `first` to `last`
    inclusive; minutes with no sends are left out."""
    rows = (
        SendBucket.objects.filter(minute__gte=first, minute__lte=last)
        .order_by()
        .values("minute")
        .annotate(sent=Sum("sent"), failed=Sum("failed"))
    )
    return {row["minute"]: (row["sent"] or 0, row["failed"] or 0) for row in rows}


def sends_since(moment: datetime) -> dict[str, int]:
    """Sent and failed, over every campaign, in the minutes from `moment` on."""
    row = SendBucket.objects.filter(minute__gte=moment).aggregate(
        sent=Sum("sent"), failed=Sum("failed")
    )
    return {"sent": row["sent"] or 0, "failed": row["failed"] or 0}


def sends_today(now: datetime | None = None) -> dict[str, int]:
    """Sent and failed since midnight in the viewer's time zone."""
    local = timezone.localtime(now or timezone.now())
    return sends_since(local.replace(hour=0, minute=0, second=0, microsecond=0))


def sends_by_campaign(start: datetime, end: datetime) -> dict[int, dict[str, int]]:
    """Each campaign's sent and failed in the minutes from `start` up to `end`."""
    return {
        row["campaign_id"]: {"sent": row["sent"] or 0, "failed": row["failed"] or 0}
        for row in SendBucket.objects.filter(minute__gte=start, minute__lt=end)
        .order_by()
        .values("campaign_id")
        .annotate(sent=Sum("sent"), failed=Sum("failed"))
    }


# --- The API's figures ----------------------------------------------------------------


def campaign_stats(campaign: Campaign, *, now=None) -> dict:
    by_status = counts_of(CampaignCounts.objects.filter(campaign=campaign).first())
    total = sum(by_status.values())
    done = total - by_status["pending"] - by_status["sending"]
    minutes = sends_by_minute(campaign.pk, now=now)
    return {
        "campaign": campaign.pk,
        "status": campaign.status,
        "counts": by_status,
        "total": total,
        "done": done,
        "progress": round(done / total, 4) if total else 0.0,
        **minutes,
        # The previous whole minute's average: the current one is still filling.
        "send_rate_per_second": round(minutes["sent_previous_minute"] / 60, 2),
    }


def overall_stats() -> dict:
    totals = message_totals()
    campaigns = []
    # Drafts send nothing: they are counted in campaigns_by_status, under their own name.
    sending = Campaign.objects.exclude(status=CampaignStatus.DRAFT)
    for campaign in sending.select_related("counts").order_by("-id"):
        counts = counts_of(getattr(campaign, "counts", None))
        campaigns.append(
            {
                "id": campaign.pk,
                "name": campaign.name,
                "status": campaign.status,
                "counts": counts,
                "total": sum(counts.values()),
            }
        )
    return {
        "totals": totals,
        "total_messages": sum(totals.values()),
        "campaigns_by_status": campaigns_by_status(),
        "campaigns": campaigns,
    }


# --- The engine's backlog (/metrics) -----------------------------------------------------


def queued_tasks() -> int:
    """Tasks waiting in the django-q2 queue (the ORM broker's rows)."""
    return OrmQ.objects.count()


def messages_due(now: datetime | None = None) -> int:
    """Pending messages of running campaigns whose next attempt is due: the one figure read
    from messages, through the senders' own partial index (message_pending_due), so it
    costs what the backlog is, never the table."""
    now = now or timezone.now()
    return (
        Message.objects.pending().due(now).filter(campaign__status=CampaignStatus.RUNNING).count()
    )


# --- What changed: the marks polled fragments compare (messaging rows by key or the
# campaigns with their counters, never messages) ------------------------------------------

CAMPAIGN_MARK_FIELDS = ("status", "updated_at", "start_at", "end_at", "targets_selected_at")


def campaign_mark(pk: int) -> dict | None:
    """What a campaign's page is drawn from: its status and times, and its counters."""
    counts = {f"counts__{field}": field for field in COUNT_FIELDS.values()}
    row = Campaign.objects.filter(pk=pk).values(*CAMPAIGN_MARK_FIELDS, "paused_at", *counts).first()
    return None if row is None else {counts.get(key, key): value for key, value in row.items()}


def campaigns_mark() -> dict:
    """Every campaign's status, the last edit and the counters summed, all and of the live
    ones (one aggregate over campaigns and their counters)."""
    live = Q(status__in=(CampaignStatus.RUNNING, CampaignStatus.PAUSED))
    return Campaign.objects.aggregate(
        **{f"n_{status}": Count("id", filter=Q(status=status)) for status in CampaignStatus},
        updated=Max("updated_at"),
        **{f"all_{field}": Sum(f"counts__{field}") for field in COUNT_FIELDS.values()},
        **{f"live_{f}": Sum(f"counts__{f}", filter=live) for f in COUNT_FIELDS.values()},
        live_paused=Max("paused_at", filter=live),
    )


def newest_client_id() -> int | None:
    return Client.objects.aggregate(newest=Max("id"))["newest"]
