"""The dashboard's overview as the page shows it: the chart's geometry, status words that
agree with their number, the live campaigns with why they are not sending.

The figures themselves are read by messaging/reporting/stats.py; nothing here queries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import npgettext

from messaging.models import Campaign, CampaignStatus, ProviderState
from messaging.reporting import diagnosis, stats
from messaging.reporting.diagnosis import explain_campaign
from messaging.reporting.provider_state import current, provider_health, provider_state

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

    @property
    def time_ticks(self) -> list[Bar]:
        """The minutes the time axis names: every quarter of an hour and the last one."""
        return [self.bars[i] for i in (0, 15, 30, 45, CHART_MINUTES - 1)]

    @property
    def value_ticks(self) -> list[int]:
        """The y axis' labels, top to bottom: the peak, half of it, 0."""
        if not self.peak:
            return []
        return [self.peak, self.peak // 2, 0] if self.peak > 1 else [self.peak, 0]

    @property
    def busy_minutes(self) -> list[Bar]:
        """The minutes with sends, newest first: the chart's values as text."""
        return [bar for bar in reversed(self.bars) if bar.sent or bar.failed]


def sends_chart(now: datetime | None = None) -> SendsChart:
    """Sent and failed per minute over the last hour, scaled for an inline SVG."""
    now = now or timezone.now()
    last = now.replace(second=0, microsecond=0)
    first = last - timedelta(minutes=CHART_MINUTES - 1)
    by_minute = stats.sent_and_failed_per_minute(first, last)
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


def status_for_count(status: str, n: int) -> str:
    """ "2 scheduled": the status word agrees with the number in Russian (2 запланированы)."""
    forms: dict[str, str] = {
        CampaignStatus.DRAFT: npgettext("n campaigns", "draft", "drafts", n),
        CampaignStatus.SCHEDULED: npgettext("n campaigns", "scheduled", "scheduled", n),
        CampaignStatus.RUNNING: npgettext("n campaigns", "running", "running", n),
        CampaignStatus.PAUSED: npgettext("n campaigns", "paused", "paused", n),
        CampaignStatus.FINISHED: npgettext("n campaigns", "finished", "finished", n),
        CampaignStatus.CANCELLED: npgettext("n campaigns", "cancelled", "cancelled", n),
    }
    return forms.get(status, status)


def dashboard_overview() -> dict:
    """Everything the dashboard's live part shows, the provider's row read once for all."""
    provider = current()
    client_count, client_count_estimated = stats.client_count()
    return {
        "client_count": client_count,
        "client_count_estimated": client_count_estimated,
        "campaigns_by_status": [
            (status_for_count(status, n), n) for status, n in stats.campaigns_by_status().items()
        ],
        "today": stats.sends_today(),
        "live_campaigns": _explained(stats.live_campaigns(), provider),
        "chart": sends_chart(),
        "health": provider_state(provider),
        "provider_health": provider_health(provider),
    }


def _explained(campaigns: list[Campaign], provider: ProviderState) -> list[Campaign]:
    """Each running campaign with why it is not sending."""
    if campaigns:
        now = timezone.now()
        sent_per_minute = diagnosis.sent_per_minute(None, now)
        # One query for every campaign's rate, not one each (the finish estimates).
        minutes = stats.sends_by_minute_per_campaign([c.pk for c in campaigns], now=now)
        for campaign in campaigns:
            # For the template: each campaign's reasons next to it.
            campaign.diagnosis = explain_campaign(  # type: ignore[attr-defined]
                campaign,
                provider=provider,
                counts=getattr(campaign, "counts", None),
                now=now,
                sent_per_minute_all=sent_per_minute,
                sent_per_minute_here=diagnosis.per_minute_of(minutes[campaign.pk]),
            )
    return campaigns
