"""Statistics read from the counters, never by scanning messages."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from messaging.models import Campaign, CampaignCounts, CampaignStatus, SendBucket
from messaging.models.counters import COUNT_FIELDS


def _counts_dict(counts: CampaignCounts | None) -> dict[str, int]:
    if counts is None:
        return dict.fromkeys((s.value for s in COUNT_FIELDS), 0)
    return counts.as_dict()


def sends_by_minute(campaign_id: int | None = None, *, now=None) -> dict:
    """Messages sent in the current clock minute so far and in the previous whole one.

    Exact counts of the per-minute buckets (UTC clock minutes, as the engine records
    them), not an estimate of "the last 60 seconds": a bucket has no finer time inside it.
    """
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0)
    previous_minute = minute - timedelta(minutes=1)
    buckets = SendBucket.objects.filter(minute__gte=previous_minute, minute__lte=minute)
    if campaign_id is not None:
        buckets = buckets.filter(campaign_id=campaign_id)
    by_minute = dict(
        buckets.order_by().values_list("minute").annotate(n=Sum("sent")).values_list("minute", "n")
    )
    return {
        "minute_start": minute,
        "sent_this_minute": by_minute.get(minute) or 0,
        "sent_previous_minute": by_minute.get(previous_minute) or 0,
    }


def campaign_stats(campaign: Campaign, *, now=None) -> dict:
    counts = CampaignCounts.objects.filter(campaign=campaign).first()
    by_status = _counts_dict(counts)
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
    totals_row = CampaignCounts.objects.aggregate(
        **{field: Sum(field) for field in COUNT_FIELDS.values()}
    )
    totals = {status.value: totals_row[field] or 0 for status, field in COUNT_FIELDS.items()}
    campaigns_by_status = dict.fromkeys(CampaignStatus.values, 0)
    for row in Campaign.objects.order_by().values("status").annotate(n=Count("id")):
        campaigns_by_status[row["status"]] = row["n"]
    campaigns = []
    for campaign in Campaign.objects.select_related("counts").order_by("-id"):
        counts = _counts_dict(getattr(campaign, "counts", None))
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
        "campaigns_by_status": campaigns_by_status,
        "campaigns": campaigns,
    }
