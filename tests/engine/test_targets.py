"""Rule 2: one pending message per matching client, idempotently."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.engine import lifecycle
from messaging.models import Campaign, CampaignCounts, Client, Message
from tests.conftest import force_status
from tests.engine.conftest import running_campaign

pytestmark = pytest.mark.django_db


def seed_clients():
    rows = [
        ("79160000001", "916", "vip"),
        ("79160000002", "916", "new"),
        ("79260000003", "926", "vip"),
        ("79260000004", "926", ""),
        ("79030000005", "903", "vip"),
    ]
    for phone, code, tag in rows:
        Client.objects.create(phone=phone, operator_code=code, tag=tag, timezone="UTC")


@pytest.mark.parametrize(
    ("codes", "tags", "expected"),
    [
        ([], [], {"79160000001", "79160000002", "79260000003", "79260000004", "79030000005"}),
        (["916"], [], {"79160000001", "79160000002"}),
        ([], ["vip"], {"79160000001", "79260000003", "79030000005"}),
        (["916", "926"], ["vip"], {"79160000001", "79260000003"}),
        (["926"], [""], {"79260000004"}),
        (["999"], [], set()),
    ],
)
def test_targets_are_clients_matching_operator_codes_and_tags(codes, tags, expected):
    seed_clients()
    campaign = running_campaign(operator_codes=codes, tags=tags)
    assert set(campaign.messages.values_list("phone", flat=True)) == expected
    assert CampaignCounts.objects.get(pk=campaign.pk).pending == len(expected)


def test_target_selection_is_idempotent():
    seed_clients()
    campaign = running_campaign()
    assert lifecycle.select_targets(campaign, timezone.now()) == 0
    force_status(campaign.pk, "scheduled")
    assert lifecycle.start_campaign(campaign.pk, timezone.now())  # a second dispatch
    assert Message.objects.filter(campaign=campaign).count() == 5
    assert CampaignCounts.objects.get(pk=campaign.pk).pending == 5


def test_a_start_does_nothing_for_a_campaign_not_due():
    seed_clients()
    campaign = running_campaign(start_now=False)
    future = timezone.now().replace(year=2999)
    Campaign.objects.filter(pk=campaign.pk).update(
        start_at=future, end_at=future + timedelta(hours=1)
    )
    assert not lifecycle.start_campaign(campaign.pk, timezone.now())
    assert not Message.objects.exists()
