"""Rule 9: pause, resume and cancel take effect for new requests within 2 s."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from messaging import services
from messaging.engine.outcomes import Outcome
from messaging.models import Campaign, CampaignCounts, CampaignStatus, Message, MessageStatus
from tests.engine.conftest import make_clients, make_sender, run_pump, running_campaign, send_now


def _pump_in_thread(url, **kw):
    try:
        run_pump(url, **kw)
    finally:
        connection.close()


def wait_for(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_pause_stops_new_requests_and_resume_continues(provider):
    provider.configure(latency_ms=50)
    make_clients(300)
    campaign = running_campaign()
    thread = threading.Thread(
        target=_pump_in_thread, args=(provider.url,), kwargs={"concurrency": 2}
    )
    thread.start()
    assert wait_for(lambda: provider.stats()["total"] >= 5)
    services.pause_campaign(campaign=campaign)
    paused_at = time.time()
    thread.join(timeout=30)
    assert not thread.is_alive()  # nothing left to do: the pump stopped
    late = [r for r in provider.requests() if r["at"] > paused_at + 2]
    assert late == []
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert counts.pending > 0 and counts.sending == 0
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PAUSED

    services.resume_campaign(campaign=campaign)
    run_pump(provider.url, concurrency=8)
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 300
    assert all(r["count"] == 1 for r in provider.receipts()["receipts"].values())


@pytest.mark.django_db
def test_cancel_marks_unsent_messages_cancelled(provider):
    make_clients(5)
    campaign = running_campaign()
    services.cancel_campaign(campaign=campaign)
    run_pump(provider.url)
    assert provider.stats()["total"] == 0
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.CANCELLED}
    assert CampaignCounts.objects.get(pk=campaign.pk).cancelled == 5


@pytest.mark.django_db
def test_deleting_a_running_campaign_cancels_it_first(provider):
    make_clients(3)
    campaign = running_campaign()
    pump = make_sender(provider.url, concurrency=2)
    pump._tick(timezone.now())
    pump._claim(timezone.now(), 2)  # a pump holds two of its messages
    services.delete_campaign(campaign=campaign)
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    pump.run()  # the claimed messages are dropped, not sent
    assert provider.stats()["total"] == 0


@pytest.mark.django_db
def test_a_message_cancelled_while_in_flight_is_recorded_sent_if_it_went_through(provider):
    make_clients(1)
    campaign = running_campaign()
    pump = make_sender(provider.url, concurrency=1)
    pump._tick(timezone.now())
    pump._claim(timezone.now(), 1)
    job = pump.queue.popleft()
    result = send_now(provider.url, job)  # the request goes out...
    services.cancel_campaign(campaign=campaign)  # ...while the campaign is cancelled
    pump.outcomes.append(Outcome(job, result=result))
    pump._flush()
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert (counts.sent, counts.cancelled) == (1, 0)
