"""Rule 12: a campaign is finished when no message is pending or in flight."""

from __future__ import annotations

import pytest
from django.utils import timezone

from messaging.engine import lifecycle
from messaging.models import Campaign, CampaignStatus
from tests.engine.conftest import make_clients, run_pump, running_campaign

pytestmark = pytest.mark.django_db


def test_campaign_finishes_when_nothing_is_pending_or_in_flight(provider):
    make_clients(5)
    campaign = running_campaign()
    assert lifecycle.finish_done(timezone.now()) == []  # five pending
    run_pump(provider.url)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert campaign.finished_at is not None


def test_campaign_with_no_matching_client_finishes_at_once():
    campaign = running_campaign(start_now=False, operator_codes=["999"])
    stepped = lifecycle.step(timezone.now())
    assert stepped.started == [campaign.pk] and stepped.finished == [campaign.pk]
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.FINISHED


def test_a_campaign_not_yet_started_is_not_finished():
    campaign = running_campaign(start_now=False, operator_codes=["999"])
    assert lifecycle.finish_done(timezone.now()) == []
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SCHEDULED
