"""The dashboard's "Failed today" counts messages that ended failed, as the counters and the
daily report do (a transient error that was retried and sent is not a failure)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.models import CampaignCounts
from messaging.reporting import stats
from messaging.reporting.reports import build_daily_report
from tests.engine.conftest import (
    make_clients,
    run_pump,
    running_campaign,
    scripted,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.django_db


def test_failed_today_matches_the_counters_and_the_report(as_viewer, scripted, settings):  # noqa: F811
    settings.RETRY_BASE_SECONDS = 0.05
    settings.RETRY_MAX_SECONDS = 0.2
    make_clients(4)
    campaign = running_campaign()
    scripted.respond(503, "busy")  # transient: retried, then sent
    scripted.respond(404, '{"message": "unknown subscriber"}', times=2)  # permanent
    run_pump(scripted.url, token="test-provider-token", concurrency=1)

    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert (counts.sent, counts.failed) == (2, 2)
    assert stats.sends_today()["failed"] == 2
    # The report whose 24 hours end now (today's may have closed at REPORT_TIME already).
    today = timezone.now().astimezone(ZoneInfo(settings.REPORT_TIMEZONE)).date()
    report = build_daily_report(today + timedelta(days=1))
    assert report.period_end <= timezone.now() and report.failed_in_period == 2
    html = as_viewer.get(reverse("dashboard:home")).content.decode()
    assert 'data-figure="failed-today">2<' in html
