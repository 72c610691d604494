"""Rule 3: nothing starts at or after end_at; then every unsent message expires."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from messaging import tasks
from messaging.models import CampaignCounts, CampaignStatus, Message, MessageStatus
from messaging.provider import ProviderClient
from tests.engine.conftest import make_clients, run_pump, running_campaign


@pytest.mark.django_db
def test_no_request_starts_at_or_after_end_at(provider):
    make_clients(5)
    campaign = running_campaign()
    with time_machine.travel(campaign.end_at, tick=True):
        run_pump(provider.url)
    assert provider.stats()["total"] == 0
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.EXPIRED}
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED


@pytest.mark.fast
def test_request_timeout_is_capped_at_time_left(provider):
    provider.configure(hang_rate=1.0, hang_seconds=30)
    client = ProviderClient(url=provider.url, read_timeout=20)
    result = client.send(message_id=1, phone="79161234567", text="x", time_left=0.3)
    assert result.outcome == "timeout"
    # The read timeout was 0.3 s, not the configured 20 s.
    assert result.duration_ms < 5000


@pytest.mark.django_db
def test_request_near_the_deadline_never_outlives_it(provider):
    provider.configure(hang_rate=1.0, hang_seconds=30)
    make_clients(1)
    # Long enough that the request starts (none starts with less than 0.5 s left), even
    # on a busy machine; its 20 s read timeout is then capped at the time left.
    campaign = running_campaign(length=timedelta(seconds=3))
    run_pump(provider.url, read_timeout=20)
    attempt = Message.objects.get().delivery_attempts.get()
    finished_at = attempt.started_at + timedelta(milliseconds=attempt.duration_ms)
    assert attempt.outcome == "timeout"
    assert finished_at <= campaign.end_at + timedelta(milliseconds=300)
    assert Message.objects.get().status == MessageStatus.EXPIRED


@pytest.mark.django_db
def test_unsent_messages_expire_at_end_at_even_with_no_pump_running():
    make_clients(4)
    campaign = running_campaign()
    with time_machine.travel(campaign.end_at + timedelta(seconds=1)):
        tasks.tick()  # what the end_at schedule runs
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert (counts.expired, counts.pending) == (4, 0)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED


@pytest.mark.django_db
def test_paused_campaign_also_expires_at_end_at():
    from messaging import services

    make_clients(2)
    campaign = running_campaign()
    services.pause_campaign(campaign=campaign)
    with time_machine.travel(campaign.end_at + timedelta(seconds=1)):
        tasks.tick()
    assert CampaignCounts.objects.get(pk=campaign.pk).expired == 2


@pytest.mark.django_db
def test_a_retry_that_would_land_after_end_at_expires_instead(scripted, settings):
    settings.RETRY_BASE_SECONDS = 120
    make_clients(1)
    running_campaign(length=timedelta(seconds=30))
    scripted.respond(503, "busy")
    run_pump(scripted.url, token="test-provider-token", budget=2)
    message = Message.objects.get()
    assert message.status == MessageStatus.EXPIRED
    assert "503" in message.last_error
    assert timezone.now() < message.campaign.end_at
