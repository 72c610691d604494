"""A campaign created through the API is fully sent by a real `qcluster` process."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Campaign, CampaignCounts, CampaignStatus
from tests.engine.conftest import make_clients
from tests.support.cluster import running_cluster


@pytest.fixture
def cluster(provider):
    with running_cluster(provider.url, ENGINE_PUMPS="2", Q_WORKERS="3") as proc:
        yield proc


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_campaign_created_through_the_api_is_fully_sent_by_the_cluster(
    cluster, provider, manager_api
):
    provider.configure(latency_ms=5)
    make_clients(200)
    now = timezone.now()
    response = manager_api.post(
        "/api/campaigns/",
        {
            "text": "End to end",
            "start_at": (now - timedelta(seconds=5)).isoformat(),
            "end_at": (now + timedelta(minutes=10)).isoformat(),
        },
    )
    assert response.status_code == 201
    campaign_id = response.json()["id"]

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if Campaign.objects.get(pk=campaign_id).status == CampaignStatus.FINISHED:
            break
        assert cluster.poll() is None, cluster.log()[-2000:]
        time.sleep(0.25)
    counts = CampaignCounts.objects.get(pk=campaign_id)
    assert counts.sent == 200, counts.as_dict()
    receipts = provider.receipts()["receipts"]
    assert len(receipts) == 200
    assert all(r["count"] == 1 for r in receipts.values())
