"""Numbers for the dashboard, read from counters and per-minute buckets (never message scans)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import npgettext

from messaging import diagnosis
from messaging.diagnosis import explain_campaign
from messaging.models import Campaign, CampaignStatus, Client, ProviderState, SendBucket

CHART_MINUTES = 60
CHART_WIDTH = 600
CHART_HEIGHT = 160


@dataclass
class Bar:
    minute: datetime
    sent: int
    failed: int
    x: float
    sent_y: float
    sent_height: float
    failed_y: float
    failed_height: float


@dataclass
class SendsChart:
    bars: list[Bar]
    peak: int
    total_sent: int
    total_failed: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT

    @property
    def bar_width(self) -> float:
        return self.width / CHART_MINUTES - 1


def sends_chart(now: datetime | None = None) -> SendsChart:
    """Sent and failed per minute over the last hour, scaled for an inline SVG."""
    now = now or timezone.now()
    last = now.replace(second=0, microsecond=0)
    first = last - timedelta(minutes=CHART_MINUTES - 1)
    rows = (
        SendBucket.objects.filter(minute__gte=first, minute__lte=last)
        .order_by()
        .values("minute")
        .annotate(sent=Sum("sent"), failed=Sum("failed"))
    )
    by_minute = {row["minute"]: (row["sent"] or 0, row["failed"] or 0) for row in rows}
    peak = max((s + f for s, f in by_minute.values()), default=0)
    scale = (CHART_HEIGHT - 4) / peak if peak else 0
    step = CHART_WIDTH / CHART_MINUTES
    bars = []
    for i in range(CHART_MINUTES):
        minute = first + timedelta(minutes=i)
        sent, failed = by_minute.get(minute, (0, 0))
        sent_h = sent * scale
        failed_h = failed * scale
        bars.append(
            Bar(
                minute=minute,
                sent=sent,
                failed=failed,
                x=round(i * step, 2),
                sent_y=round(CHART_HEIGHT - sent_h, 2),
                sent_height=round(sent_h, 2),
                failed_y=round(CHART_HEIGHT - sent_h - failed_h, 2),
                failed_height=round(failed_h, 2),
            )
        )
    return SendsChart(
        bars=bars,
        peak=peak,
        total_sent=sum(b.sent for b in bars),
        total_failed=sum(b.failed for b in bars),
    )


def today_sends(now: datetime | None = None) -> dict[str, int]:
    """Sent and failed since midnight in the viewer's time zone."""
    local = timezone.localtime(now or timezone.now())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    row = SendBucket.objects.filter(minute__gte=midnight).aggregate(
        sent=Sum("sent"), failed=Sum("failed")
    )
    return {"sent": row["sent"] or 0, "failed": row["failed"] or 0}


def status_for_count(status: str, n: int) -> str:
    """ "2 scheduled": the status word agrees with the number in Russian (2 запланированы)."""
    forms = {
        CampaignStatus.SCHEDULED: npgettext("n campaigns", "scheduled", "scheduled", n),
        CampaignStatus.RUNNING: npgettext("n campaigns", "running", "running", n),
        CampaignStatus.PAUSED: npgettext("n campaigns", "paused", "paused", n),
        CampaignStatus.FINISHED: npgettext("n campaigns", "finished", "finished", n),
        CampaignStatus.CANCELLED: npgettext("n campaigns", "cancelled", "cancelled", n),
    }
    return forms.get(status, status)


def dashboard_figures() -> dict:
    by_status = dict.fromkeys(CampaignStatus.values, 0)
    for row in Campaign.objects.order_by().values("status").annotate(n=Count("id")):
        by_status[row["status"]] = row["n"]
    live = (
        Campaign.objects.filter(status__in=(CampaignStatus.RUNNING, CampaignStatus.PAUSED))
        .select_related("counts", "paused_by")
        .order_by("-id")
    )
    return {
        "client_count": Client.objects.count(),
        "campaigns_by_status": [
            (status_for_count(status, n), n) for status, n in by_status.items()
        ],
        "today": today_sends(),
        "live_campaigns": _explained(list(live[:20])),
        "chart": sends_chart(),
    }


def _explained(campaigns: list[Campaign]) -> list[Campaign]:
    """Each running campaign with why it is not sending (the provider read once for all)."""
    if campaigns:
        provider = ProviderState.get()
        now = timezone.now()
        sent_per_minute = diagnosis.sent_per_minute(None, now)
        for campaign in campaigns:
            campaign.diagnosis = explain_campaign(
                campaign,
                provider=provider,
                counts=getattr(campaign, "counts", None),
                now=now,
                sent_per_minute_all=sent_per_minute,
            )
    return campaigns
