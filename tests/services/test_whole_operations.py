"""Whole operations: one call of the services per user action leaves a campaign whose
window holds now running, its targets selected (the lifecycle's step for it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import services
from messaging.engine import lifecycle
from messaging.models import CampaignCounts, CampaignStatus
from tests.conftest import make_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients():
    return [make_client(f"7916000000{i}") for i in range(3)]


def window(start_in: timedelta) -> dict:
    start = timezone.now() + start_in
    return {"text": "Hi", "start_at": start, "end_at": start + timedelta(hours=2)}


def assert_running_with_targets(campaign) -> None:
    assert campaign.status == CampaignStatus.RUNNING and campaign.targets_selected_at
    assert CampaignCounts.objects.get(pk=campaign.pk).pending == 3


def test_create_in_the_window_leaves_it_running(clients):
    assert_running_with_targets(services.create_campaign(values=window(timedelta(seconds=-1))))


def test_create_before_the_window_leaves_it_scheduled(clients):
    campaign = services.create_campaign(values=window(timedelta(hours=1)))
    assert campaign.status == CampaignStatus.SCHEDULED and not campaign.targets_selected_at


def test_an_edit_bringing_the_start_to_now_leaves_it_running(clients):
    campaign = services.create_campaign(values=window(timedelta(hours=1)))
    now = timezone.now()
    edited = services.update_campaign(
        campaign=campaign, values={"start_at": now - timedelta(seconds=1)}
    )
    assert_running_with_targets(edited)


def test_a_launch_in_the_window_leaves_it_running(clients):
    draft = services.create_campaign(values=window(timedelta(seconds=-1)), draft=True)
    assert draft.status == CampaignStatus.DRAFT and not draft.targets_selected_at
    assert_running_with_targets(services.launch_campaign(campaign=draft))


def test_a_resume_in_the_window_of_a_campaign_never_started_leaves_it_running(clients):
    campaign = services.create_campaign(values=window(timedelta(hours=1)))
    services.pause_campaign(campaign=campaign)
    # Paused, its start brought to now: the edit starts nothing while it is paused.
    edited = services.update_campaign(
        campaign=campaign, values={"start_at": timezone.now() - timedelta(seconds=1)}
    )
    assert edited.status == CampaignStatus.PAUSED and not edited.targets_selected_at
    assert_running_with_targets(services.resume_campaign(campaign=edited))


def test_the_api_answers_with_the_campaign_the_one_call_left(clients, manager_api):
    """The API's answer is the campaign the service left (no second call behind it)."""
    start = timezone.now() - timedelta(seconds=1)
    response = manager_api.post(
        "/api/campaigns/",
        {
            "text": "Now",
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status_code == 201
    assert response.json()["status"] == "running"
    assert response.json()["counts"]["pending"] == 3


def test_an_operation_answers_running_even_for_no_recipients_the_clock_finishes_it():
    campaign = services.create_campaign(
        values={**window(timedelta(seconds=-1)), "operator_codes": ["999"]}
    )
    assert campaign.status == CampaignStatus.RUNNING
    assert lifecycle.step(timezone.now()).finished == [campaign.pk]
