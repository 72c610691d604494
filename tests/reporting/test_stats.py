from __future__ import annotations

import random

import pytest
from django.utils import timezone

from messaging.models import Campaign, CampaignCounts, Message, MessageStatus
from messaging.models.counters import add_pending, move_messages, record_sends, recount
from tests.conftest import make_campaign, make_client

pytestmark = pytest.mark.django_db


def seed(campaign: Campaign, statuses: list[str]) -> None:
    messages = [
        Message(campaign=campaign, phone=f"7900{campaign.pk % 1000:03d}{i:04d}")
        for i in range(len(statuses))
    ]
    Message.objects.bulk_create(messages)
    add_pending(campaign.pk, len(messages))
    ids = list(
        Message.objects.filter(campaign=campaign).order_by("id").values_list("id", flat=True)
    )
    for message_id, status in zip(ids, statuses, strict=True):
        move_messages(Message.objects.filter(pk=message_id), [MessageStatus.PENDING], status)


def test_stats_figures_for_a_known_data_set(viewer_api):
    first = make_campaign(name="First")
    second = make_campaign(name="Second")
    seed(first, ["sent"] * 5 + ["failed"] * 2 + ["pending"] * 3)
    seed(second, ["sent"] * 1 + ["expired"] * 4 + ["cancelled"] * 2)
    record_sends(first.pk, sent=5, failed=2, at=timezone.now())

    overall = viewer_api.get("/api/stats/").json()
    assert overall["totals"] == {
        "pending": 3,
        "sending": 0,
        "sent": 6,
        "failed": 2,
        "expired": 4,
        "cancelled": 2,
    }
    assert overall["total_messages"] == 17
    assert overall["campaigns_by_status"]["scheduled"] == 2
    by_name = {c["name"]: c for c in overall["campaigns"]}
    assert by_name["First"]["counts"]["sent"] == 5 and by_name["First"]["total"] == 10
    assert by_name["Second"]["counts"]["expired"] == 4

    first_stats = viewer_api.get(f"/api/campaigns/{first.pk}/stats/").json()
    assert first_stats["counts"]["pending"] == 3
    assert first_stats["total"] == 10
    assert first_stats["done"] == 7
    assert first_stats["progress"] == 0.7
    assert first_stats["sent_this_minute"] == 5


def test_counters_match_a_recount_after_random_moves():
    campaign = make_campaign()
    clients = [make_client(f"7916000{i:04d}") for i in range(60)]
    Message.objects.bulk_create(
        [Message(campaign=campaign, client=c, phone=c.phone) for c in clients]
    )
    add_pending(campaign.pk, len(clients))
    rng = random.Random(7)
    statuses = list(MessageStatus.values)
    for _ in range(40):
        ids = rng.sample(list(Message.objects.values_list("id", flat=True)), 10)
        move_messages(
            Message.objects.filter(id__in=ids), rng.sample(statuses, 3), rng.choice(statuses)
        )
    kept = CampaignCounts.objects.get(pk=campaign.pk).as_dict()
    assert kept == recount(campaign.pk).as_dict()
    assert sum(kept.values()) == 60


def test_stats_of_unknown_campaign_is_404(viewer_api):
    assert viewer_api.get("/api/campaigns/424242/stats/").status_code == 404


def test_the_rates_of_several_campaigns_read_at_once_equal_each_read_alone():
    from datetime import timedelta

    from messaging.reporting import stats

    now = timezone.now().replace(second=30, microsecond=0)
    first, second, idle = (make_campaign(name=name) for name in ("First", "Second", "Idle"))
    record_sends(first.pk, sent=7, at=now)
    record_sends(first.pk, sent=3, at=now - timedelta(minutes=1))
    record_sends(second.pk, sent=2, failed=1, at=now - timedelta(minutes=1))
    record_sends(second.pk, sent=9, at=now - timedelta(minutes=2))  # older: not counted
    together = stats.sends_by_minute_per_campaign([first.pk, second.pk, idle.pk], now=now)
    for campaign in (first, second, idle):
        assert together[campaign.pk] == stats.sends_by_minute(campaign.pk, now=now)
    assert together[first.pk]["sent_this_minute"] == 7
    assert together[second.pk]["sent_previous_minute"] == 2
