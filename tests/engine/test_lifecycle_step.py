"""One owner of time: `lifecycle.step(now)` starts, expires and finishes; the clock, the
schedules and the services only call it, and the senders only send."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from messaging import services
from messaging.engine import clock, lifecycle
from messaging.models import Campaign, CampaignCounts, CampaignStatus, Message, MessageStatus
from tests.engine.conftest import make_clients, make_sender

pytestmark = pytest.mark.django_db


def later_campaign(start_in=timedelta(hours=1), length=timedelta(hours=2), **values):
    start = timezone.now() + start_in
    values = {"text": "Hi", "start_at": start, "end_at": start + length, **values}
    return services.create_campaign(values=values)


def status(campaign) -> str:
    return Campaign.objects.get(pk=campaign.pk).status


def test_a_step_starts_a_campaign_at_its_start_and_not_a_moment_before():
    make_clients(3)
    campaign = later_campaign()
    with time_machine.travel(campaign.start_at - timedelta(milliseconds=1), tick=False):
        assert lifecycle.step(timezone.now()).started == []
    assert status(campaign) == CampaignStatus.SCHEDULED and not Message.objects.exists()
    with time_machine.travel(campaign.start_at, tick=False):
        assert lifecycle.step(timezone.now()).started == [campaign.pk]
        assert lifecycle.step(timezone.now()).started == []  # once
    assert status(campaign) == CampaignStatus.RUNNING
    assert CampaignCounts.objects.get(pk=campaign.pk).pending == 3


def test_a_step_at_the_end_expires_what_is_pending_and_finishes_the_campaign():
    make_clients(3)
    campaign = later_campaign()
    with time_machine.travel(campaign.start_at, tick=False):
        lifecycle.step(timezone.now())
    with time_machine.travel(campaign.end_at - timedelta(milliseconds=1), tick=False):
        stepped = lifecycle.step(timezone.now())
        assert (stepped.expired, stepped.finished) == (0, [])
    with time_machine.travel(campaign.end_at, tick=False):
        stepped = lifecycle.step(timezone.now())
    assert (stepped.expired, stepped.finished) == (3, [campaign.pk])
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert (counts.pending, counts.expired) == (0, 3)
    assert status(campaign) == CampaignStatus.FINISHED


def test_a_step_finishes_a_campaign_once_nothing_is_pending_or_in_flight():
    make_clients(2)
    campaign = later_campaign(start_in=timedelta(seconds=-1))
    assert status(campaign) == CampaignStatus.RUNNING
    assert lifecycle.step(timezone.now()).finished == []
    Message.objects.filter(campaign=campaign).update(status=MessageStatus.SENT)
    CampaignCounts.objects.filter(pk=campaign.pk).update(pending=0, sent=2)
    assert lifecycle.step(timezone.now()).finished == [campaign.pk]
    assert status(campaign) == CampaignStatus.FINISHED


def test_a_step_for_one_campaign_leaves_the_others_alone():
    make_clients(1)
    mine, other = later_campaign(), later_campaign()
    with time_machine.travel(mine.start_at, tick=False):
        assert lifecycle.step(timezone.now(), campaign_id=mine.pk).started == [mine.pk]
    assert (status(mine), status(other)) == (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED)


def test_a_sender_neither_starts_nor_expires_nor_finishes(provider):
    """The senders send what is running; the clock's step does the rest."""
    make_clients(2)
    due = later_campaign()
    ended = later_campaign(start_in=timedelta(seconds=-1), length=timedelta(seconds=30))
    Campaign.objects.filter(pk=due.pk).update(start_at=timezone.now() - timedelta(seconds=1))
    with time_machine.travel(ended.end_at + timedelta(seconds=1), tick=True):
        make_sender(provider.url, budget_seconds=1).run()
        assert status(due) == CampaignStatus.SCHEDULED
        assert status(ended) == CampaignStatus.RUNNING
        assert CampaignCounts.objects.get(pk=ended.pk).pending == 2
        stepped = lifecycle.step(timezone.now())
    assert (stepped.started, stepped.expired, stepped.finished) == ([due.pk], 2, [ended.pk])
    assert status(due) == CampaignStatus.RUNNING
    assert provider.stats()["total"] == 0


def test_the_clock_steps_every_tick():
    """Expiry and the finish no longer wait for a sender or the clock's 5-s chores."""
    make_clients(2)
    campaign = later_campaign()
    with time_machine.travel(campaign.start_at, tick=False):
        clock.tick(set(), {})
        assert status(campaign) == CampaignStatus.RUNNING
    with time_machine.travel(campaign.end_at, tick=False):
        clock.tick(set(), {"last": timezone.now()})  # chores just ran
    assert status(campaign) == CampaignStatus.FINISHED
    assert CampaignCounts.objects.get(pk=campaign.pk).expired == 2
