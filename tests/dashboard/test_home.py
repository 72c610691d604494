"""Dashboard figures, chart and provider health; message detail; account; daily report page."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import overview
from dashboard.middleware import TZ_COOKIE
from messaging.models import (
    AttemptOutcome,
    CampaignStatus,
    DeliveryAttempt,
    Message,
    ProviderState,
    SendBucket,
)
from messaging.models.counters import add_pending, record_sends
from tests.conftest import force_status, make_campaign, make_client

pytestmark = pytest.mark.django_db


def test_dashboard_shows_figures_and_running_campaigns(as_viewer):
    make_client("79161234567")
    make_client("79251234567")
    running = make_campaign(name="Live one")
    force_status(running.pk, CampaignStatus.RUNNING)
    make_campaign(name="Later one")
    record_sends(running.pk, sent=7, failed=2)
    html = as_viewer.get(reverse("dashboard:home")).content.decode()
    assert 'data-figure="clients">2<' in html
    assert 'data-figure="sent-today">7<' in html
    assert 'data-figure="failed-today">2<' in html
    assert "Live one" in html and "Later one" not in html
    assert 'id="dashboard-live" hx-get="/"' in html


def test_dashboard_live_partial_is_the_fragment_only(as_viewer):
    response = as_viewer.get(
        reverse("dashboard:home"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="dashboard-live"
    )
    assert "<html" not in response.content.decode()
    assert "No campaign is sending right now." in response.content.decode()


def test_sends_chart_reads_the_last_hour_of_buckets():
    campaign = make_campaign()
    now = timezone.now().replace(second=30)
    record_sends(campaign.pk, sent=10, at=now)
    record_sends(campaign.pk, sent=4, failed=1, at=now - timedelta(minutes=5))
    record_sends(campaign.pk, sent=99, at=now - timedelta(minutes=61))
    chart = overview.sends_chart(now)
    assert len(chart.bars) == 60
    assert (chart.total_sent, chart.total_failed, chart.peak) == (14, 1, 10)
    assert chart.bars[-1].sent == 10
    assert chart.bars[-6].failed == 1
    assert chart.bars[-1].sent_height == chart.height - 4
    assert SendBucket.objects.count() == 3


def test_chart_is_an_accessible_inline_svg(as_viewer):
    campaign = make_campaign()
    record_sends(campaign.pk, sent=3)
    html = as_viewer.get(reverse("dashboard:home")).content.decode()
    assert '<svg viewBox="0 0 600 160" role="img"' in html
    assert "3 sent, 0 failed" in html


def test_provider_health_shows_circuit_and_credentials_problem(as_viewer):
    ProviderState.objects.update_or_create(
        pk=1,
        defaults={
            "circuit": "open",
            "credentials_rejected": True,
            "credentials_detail": "HTTP 401",
            "latency_ms": 120.4,
            "error_rate": 0.75,
        },
    )
    html = unescape(as_viewer.get(reverse("dashboard:home")).content.decode())
    assert "Provider: refuses Herald's access" in html
    assert "until an administrator fixes the connection" in html
    assert "120 ms" in html
    assert "100%" in html  # every request is refused
    # The setting and the HTTP codes are a Manager's detail, not a viewer's.
    assert "PROVIDER_TOKEN" not in html and "401" not in html


def test_provider_health_in_plain_words(as_viewer):
    html = as_viewer.get(reverse("dashboard:home")).content.decode()
    assert "Provider: OK" in html
    assert "Circuit" not in html
    until = timezone.now() + timedelta(minutes=5)
    ProviderState.objects.update_or_create(
        pk=1, defaults={"circuit": "open", "opened_until": until}
    )
    html = as_viewer.get(reverse("dashboard:home")).content.decode()
    assert "Provider: not accepting messages" in html
    assert f"next try at {timezone.localtime(until):%H:%M}." in html


def test_message_detail_shows_its_attempt_timeline(as_viewer):
    client = make_client("79161234567")
    campaign = make_campaign()
    message = Message.objects.create(campaign=campaign, client=client, phone=client.phone)
    add_pending(campaign.pk, 1)
    start = timezone.now()
    DeliveryAttempt.objects.create(
        message=message,
        started_at=start,
        duration_ms=3000,
        outcome=AttemptOutcome.TIMEOUT,
        response_excerpt="",
    )
    DeliveryAttempt.objects.create(
        message=message,
        started_at=start + timedelta(seconds=5),
        duration_ms=42,
        http_status=200,
        outcome=AttemptOutcome.OK,
        response_excerpt='{"code": 0, "message": "<OK>"}',
    )
    html = as_viewer.get(reverse("dashboard:message-detail", args=[message.pk])).content.decode()
    assert html.index("Timed out") < html.index("Accepted")
    assert "HTTP 200" in html and "42 ms" in html
    assert "&lt;OK&gt;" in html


def test_times_are_shown_in_the_viewers_time_zone_with_its_name(as_viewer):
    client = make_client("79161234567")
    url = reverse("dashboard:client-detail", args=[client.pk])
    as_viewer.cookies[TZ_COOKIE] = "Asia/Tokyo"
    html = as_viewer.get(url).content.decode()
    local = timezone.localtime(client.created_at, timezone=ZoneInfo("Asia/Tokyo"))
    assert f"{local:%Y-%m-%d %H:%M} (Tokyo)" in html  # the zone by its city
    assert "Times in Tokyo" in html


def test_choosing_a_time_zone_sets_the_cookie(as_viewer):
    response = as_viewer.post(reverse("dashboard:set-timezone"), {"timezone": "America/Lima"})
    assert response.cookies[TZ_COOKIE].value == "America/Lima"
    bad = as_viewer.post(reverse("dashboard:set-timezone"), {"timezone": "Mars/Base"})
    assert TZ_COOKIE not in bad.cookies


def test_an_unknown_time_zone_cookie_falls_back_to_the_default(as_viewer, settings):
    as_viewer.cookies[TZ_COOKIE] = "Nowhere/Land"
    html = as_viewer.get(reverse("dashboard:home")).content.decode()
    assert f"Times in {settings.TIME_ZONE}" in html
