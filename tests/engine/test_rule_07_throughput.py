"""Rule 7: concurrent requests under a global rate cap, large campaigns shared by pumps."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from messaging.engine.ratelimit import take_tokens
from messaging.models import CampaignCounts, Message
from tests.engine.conftest import make_clients, run_pump, running_campaign


@pytest.mark.django_db
def test_requests_run_concurrently(provider):
    provider.configure(latency_ms=200)
    make_clients(24)
    campaign = running_campaign()
    run_pump(provider.url, concurrency=8)
    assert provider.stats()["max_in_flight"] >= 6
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 24


@pytest.mark.django_db
def test_token_bucket_never_grants_more_than_the_rate():
    from datetime import timedelta

    from django.utils import timezone

    # At 100/s the bucket holds 5 (a twentieth of a second) and refills at 85/s: a full
    # bucket and a second of refill together stay under the rate.
    now = timezone.now()
    assert take_tokens(100, 1000, now=now) == 0  # an empty bucket
    assert take_tokens(100, 1000, now=now + timedelta(seconds=0.04)) == 3  # 85/s * 0.04 s
    assert take_tokens(100, 1000, now=now + timedelta(seconds=5)) == 5  # capped at the burst
    granted = sum(
        take_tokens(100, 1000, now=now + timedelta(seconds=5 + i / 100)) for i in range(1, 101)
    )
    assert 5 + granted <= 90  # a full bucket, then one second: at most 90% of the rate


def run_pumps_concurrently(url: str, count: int, **kw) -> None:
    """`count` pumps at once, each in its own thread with its own connection (as workers)."""

    def one():
        try:
            run_pump(url, **kw)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_global_rate_cap_holds_across_two_pumps(provider):
    make_clients(60)
    campaign = running_campaign()
    run_pumps_concurrently(provider.url, 2, rate_limit=20)
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 60
    arrivals = sorted(r["at"] for r in provider.requests())
    # Over any second, at most the rate.
    for i, first in enumerate(arrivals):
        within = [t for t in arrivals[i:] if t - first < 1.0]
        assert len(within) <= 20
    span = arrivals[-1] - arrivals[0]
    assert span >= (60 - 20) / 20 * 0.9  # 60 messages at 20/s take about 2 s or more


@pytest.mark.django_db(transaction=True)
def test_large_campaign_is_shared_by_several_pumps(provider):
    provider.configure(latency_ms=20)
    make_clients(400)
    campaign = running_campaign()
    run_pumps_concurrently(provider.url, 2, concurrency=4)
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 400
    # Each pump leases with its own token: both took part.
    tokens = set(Message.objects.values_list("lease_token", flat=True))
    assert len(tokens) == 2
    assert all(r["count"] == 1 for r in provider.receipts()["receipts"].values())


@pytest.mark.django_db
def test_claims_under_a_rate_cap_stay_far_inside_the_lease(provider):
    from tests.engine.conftest import make_sender

    pump = make_sender(provider.url, concurrency=32, rate_limit=1)
    assert pump._claim_size() == 2  # two seconds of sending at 1 msg/s, not 128 messages
    # Without a cap: what can go out now (32 free slots) and a reserve of a tenth.
    assert make_sender(provider.url, concurrency=32)._claim_size() == 32 + 3


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_five_hundred_requests_in_flight_at_200_ms_each_message_sent_once(provider):
    """The asyncio transport holds hundreds of requests at a real provider's latency."""
    provider.configure(latency_ms=200)
    make_clients(2500)
    campaign = running_campaign()
    run_pump(provider.url, concurrency=500)
    # Hundreds at once (a thread per request stopped scaling at ~128); how close to 500
    # depends on how fast a busy machine lets the loop submit.
    assert provider.stats()["max_in_flight"] >= 300
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert counts.sent == 2500
    receipts = provider.receipts()
    assert (receipts["unique"], receipts["total"]) == (2500, 2500)  # each once


@pytest.mark.django_db(transaction=True)
def test_a_stalled_sender_does_not_catch_up_over_the_rate_cap(provider):
    """A process that stalls (an overloaded host: seen once in CI, 150 requests in one second
    under a cap of 120) ran every request queued meanwhile at once. Requests that could not
    start soon after their token was granted are not made; they wait for new tokens."""
    import time

    from tests.engine.conftest import make_sender

    rate = 40
    make_clients(120)
    campaign = running_campaign()
    sender = make_sender(provider.url, concurrency=64, rate_limit=rate, budget_seconds=60)

    def stall_the_transport_once_sending():
        deadline = time.monotonic() + 20
        while len(provider.requests()) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        sender.client._loop.call_soon_threadsafe(time.sleep, 1.5)

    staller = threading.Thread(target=stall_the_transport_once_sending)
    staller.start()
    sender.run()
    staller.join()
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 120
    assert all(r["count"] == 1 for r in provider.receipts()["receipts"].values())
    arrivals = sorted(r["at"] for r in provider.requests())
    assert len(arrivals) == 120
    for i, first in enumerate(arrivals):
        within = [t for t in arrivals[i:] if t - first < 1.0]
        assert len(within) <= rate, f"{len(within)} requests within 1 s"
