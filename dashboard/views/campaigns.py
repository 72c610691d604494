"""The campaign pages: the list and a campaign's page with its live counters and messages."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django_tables2 import RequestConfig

from dashboard.access import readers
from dashboard.filters import CampaignFilter
from dashboard.tables import CampaignTable, KnownCountPaginator, MessageTable, with_last_attempt
from dashboard.views import page_or_partial, polling, wants_partial
from dashboard.views.campaign_actions import available_actions
from messaging.campaigns import audience, merge, sms
from messaging.models import Campaign, CampaignStatus, MessageStatus, TestSend
from messaging.reporting import stats
from messaging.reporting.diagnosis import explain_campaign

# htmx stops polling on this status (https://htmx.org/docs/#polling).
STOP_POLLING = 286

# The fragments the campaign pages serve, by the id of the element htmx swaps.
LIST_TABLE = "campaigns-table"
LIVE = "campaign-live"
MESSAGES = "campaign-messages"


@readers
@require_safe
@polling.polled(polling.campaign_list_stamp)
def campaign_list(request, *, stamp: str):
    filterset = CampaignFilter(
        request.GET or None, queryset=Campaign.objects.select_related("counts")
    )
    table = CampaignTable(filterset.qs, order_by="-start_at")
    if any(request.GET.get(name) for name in filterset.filters):
        table.empty_text = _("No campaign matches this filter.")
    RequestConfig(request, paginate={"per_page": settings.UI_PAGE_SIZE}).configure(table)
    # Progress bars follow the sending while an active campaign is on the page.
    shown = [row.record for row in table.page.object_list] if table.page else []
    context = {
        "filter": filterset,
        "table": table,
        "polling": any(campaign.is_active for campaign in shown),
        "stamp": stamp,
    }
    return page_or_partial(
        request,
        "dashboard/campaigns/list.html",
        "dashboard/campaigns/_table.html",
        context,
        target=LIST_TABLE,
    )


def _message_table(request, campaign: Campaign):
    status = request.GET.get("status", "")
    if status not in MessageStatus.values:
        status = ""
    queryset = campaign.messages.all()
    if status:
        queryset = queryset.filter(status=status)
    table = MessageTable(with_last_attempt(queryset), order_by="id")
    known = _kept_message_count(campaign, status)
    paginate = {
        "per_page": settings.UI_PAGE_SIZE,
        "paginator_class": KnownCountPaginator,
        "count": known,
    }
    RequestConfig(request, paginate=paginate).configure(table)
    return table, status


@readers
@require_safe
@polling.polled(polling.campaign_stamp)
def campaign_detail(request, pk: int, *, stamp: str | None):
    """The page, its live counters (#campaign-live) or its message table (#campaign-messages)."""
    campaign = get_object_or_404(Campaign.objects.select_related("counts", "created_by"), pk=pk)
    if wants_partial(request, LIVE):
        # Polled every 2 s until the campaign is done, then told to stop.
        status = 200 if campaign.is_active else STOP_POLLING
        context = {**_live_context(campaign), "stamp": stamp}
        return render(request, "dashboard/campaigns/_live.html", context, status=status)
    table, status = _message_table(request, campaign)
    context = {
        "stamp": stamp,
        "campaign": campaign,
        "table": table,
        "status_filter": status,
        **_status_tabs(campaign),
        # A personal text: counted on its longest rendering among the recipients.
        "sms": _text_measure(campaign),
        "left_out": _left_out(campaign),
        "test_sends": TestSend.objects.filter(campaign=campaign).select_related("user")[:5],
        **_live_context(campaign),
    }
    return page_or_partial(
        request,
        "dashboard/campaigns/detail.html",
        "dashboard/campaigns/_messages.html",
        context,
        target=MESSAGES,
    )


def _left_out(campaign: Campaign) -> list[audience.LeftOut]:
    """Who the rules leave out: as counted when the messages were selected, or, before the
    start, as it would be now."""
    if campaign.has_started:
        return [
            audience.LeftOut(item["code"], audience.label_of(item["code"]), item["count"])
            for item in campaign.left_out_at_start or []
        ]
    return audience.left_out(campaign) if audience.countable(campaign) else []


def _text_measure(campaign: Campaign) -> sms.SmsMeasure:
    """The parts of the campaign's text: its longest rendering among the recipients."""
    if not audience.countable(campaign):
        return sms.measure(merge.with_fallbacks(campaign.text))
    return merge.longest_rendering(campaign.text, audience.recipients(campaign)).measure


def _kept_message_count(campaign: Campaign, status: str | None) -> int | None:
    """How many rows the message table has, from the campaign's kept counters: counting a
    million messages of a sending campaign reads the whole table. Once retention may have
    removed a closed campaign's rows (its counters stay), the rows left are counted."""
    days = settings.RETENTION_MESSAGES_DAYS
    finished = campaign.finished_at
    if days > 0 and finished and finished < timezone.now() - timedelta(days=days):
        return None
    counts = stats.counts_of(getattr(campaign, "counts", None))
    return counts[status] if status else sum(counts.values())


def _status_tabs(campaign: Campaign) -> dict:
    """The message table's tabs, each with its count (the campaign's counters)."""
    counts = getattr(campaign, "counts", None)
    tabs = [
        (value, label, getattr(counts, value, 0) if counts else 0)
        for value, label in MessageStatus.choices
    ]
    return {"status_tabs": tabs, "status_total": sum(n for _, _, n in tabs)}


def _live_context(campaign: Campaign) -> dict:
    figures = stats.campaign_stats(campaign)
    return {
        "campaign": campaign,
        "figures": figures,
        "percent": round(figures["progress"] * 100, 1),
        "polling": campaign.is_active,
        "diagnosis": explain_campaign(campaign),
        "actions": available_actions(campaign),
        "expected_recipients": _expected_recipients(campaign, figures),
    }


def _expected_recipients(campaign: Campaign, figures: dict) -> int | None:
    """Before a scheduled campaign creates its messages: how many clients it would reach now."""
    if campaign.status != CampaignStatus.SCHEDULED or sum(figures["counts"].values()):
        return None
    if not audience.countable(campaign):
        return None
    return audience.recipients(campaign).count()
