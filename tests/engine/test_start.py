"""Rule 1: campaigns start by themselves, at once when in their window."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from messaging import tasks
from messaging.engine import lifecycle
from messaging.engine.tasks import PUMP_FUNC, TICK_FUNC, ensure_pumps
from messaging.models import Campaign, CampaignCounts, CampaignStatus, PumpSlot
from tests.engine.conftest import make_clients

pytestmark = pytest.mark.django_db


def queued_functions() -> list[str]:
    return [task.func() for task in OrmQ.objects.all()]


def test_in_window_campaign_queues_pumps_when_created(
    manager_api, settings, django_capture_on_commit_callbacks
):
    settings.ENGINE_PUMPS = 2
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post(
            "/api/campaigns/",
            {
                "text": "Now",
                "start_at": (now - timedelta(minutes=1)).isoformat(),
                "end_at": (now + timedelta(hours=1)).isoformat(),
            },
        )
    assert response.status_code == 201
    # Pumps are queued right away: the cluster polls the queue every 0.2 s.
    assert queued_functions().count(PUMP_FUNC) == 2


def test_future_campaign_gets_a_start_schedule_and_starts_by_itself(provider, settings):
    settings.PROVIDER_URL = provider.url
    make_clients(2)
    start = timezone.now() + timedelta(hours=2)
    from messaging import services

    campaign = services.create_campaign(
        values={"text": "Later", "start_at": start, "end_at": start + timedelta(hours=1)}
    )
    schedule = Schedule.objects.get(name=f"campaign-{campaign.pk}-start")
    assert schedule.next_run == start and schedule.func == TICK_FUNC
    assert lifecycle.start_due_campaigns(timezone.now()) == []

    with time_machine.travel(start + timedelta(seconds=1), tick=True):
        tasks.tick()  # what the schedule runs at start_at
        assert PUMP_FUNC in queued_functions()
        tasks.pump(0)  # what the cluster runs next
        tasks.tick()  # the step after it (the worker's clock runs it every half second)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 2


def test_editing_start_moves_the_schedule():
    from messaging import services

    start = timezone.now() + timedelta(hours=2)
    campaign = services.create_campaign(
        values={"text": "x", "start_at": start, "end_at": start + timedelta(hours=1)}
    )
    later = start + timedelta(hours=5)
    services.update_campaign(
        campaign=campaign, values={"start_at": later, "end_at": later + timedelta(hours=1)}
    )
    assert Schedule.objects.get(name=f"campaign-{campaign.pk}-start").next_run == later
    assert Schedule.objects.get(name=f"campaign-{campaign.pk}-end").next_run == later + timedelta(
        hours=1
    )


def test_a_campaign_created_in_its_window_is_running_at_once_and_sent(provider, settings):
    """The create itself starts it (one call); a pump sends it."""
    make_clients(1)
    from messaging import services

    campaign = services.create_campaign(
        values={
            "text": "x",
            "start_at": timezone.now() - timedelta(seconds=1),
            "end_at": timezone.now() + timedelta(hours=1),
        }
    )
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.RUNNING
    from tests.engine.conftest import run_pump

    run_pump(provider.url)
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 1


def test_pumps_are_not_queued_twice_while_alive(settings):
    settings.ENGINE_PUMPS = 1
    assert ensure_pumps() == 1
    assert ensure_pumps() == 0  # queued and not yet started
    PumpSlot.objects.filter(slot=0).update(heartbeat_at=timezone.now(), enqueued_at=None)
    assert ensure_pumps() == 0  # alive
    PumpSlot.objects.filter(slot=0).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    assert ensure_pumps() == 1  # its worker died: replaced


def test_the_clock_starts_a_campaign_at_its_start_at_and_warms_a_sender(settings):
    """The worker's clock thread (manage.py qcluster) starts what is due and queues
    senders a moment before a start, without waiting for django-q2's scheduler."""
    from messaging import services
    from messaging.engine import clock

    settings.ENGINE_PUMPS = 1
    make_clients(3)
    start = timezone.now() + timedelta(seconds=30)
    campaign = services.create_campaign(
        values={"text": "x", "start_at": start, "end_at": start + timedelta(hours=1)}
    )
    warmed: set = set()
    with time_machine.travel(start - timedelta(seconds=10), tick=False):
        assert clock.tick(warmed) == clock.POLL_SECONDS  # looks again soon
        assert PUMP_FUNC not in queued_functions()
    with time_machine.travel(start - timedelta(milliseconds=800), tick=False):
        clock.tick(warmed)
        assert queued_functions().count(PUMP_FUNC) == 1  # warmed
    with time_machine.travel(start - timedelta(milliseconds=300), tick=False):
        assert clock.tick(warmed) == pytest.approx(0.3)  # sleeps exactly until the start
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SCHEDULED
    with time_machine.travel(start, tick=False):
        clock.tick(warmed)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.RUNNING
    assert CampaignCounts.objects.get(pk=campaign.pk).pending == 3


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_scheduled_campaign_starts_by_itself_in_a_real_cluster(provider):
    import time

    from messaging import services
    from tests.support.cluster import running_cluster

    make_clients(5)
    with running_cluster(provider.url, ENGINE_PUMPS="1", Q_WORKERS="2") as cluster:
        time.sleep(3)  # the cluster is up and idle
        start = timezone.now() + timedelta(seconds=3)
        campaign = services.create_campaign(
            values={"text": "On time", "start_at": start, "end_at": start + timedelta(hours=1)}
        )
        deadline = time.monotonic() + 25  # well before django-q2's scheduler (30 s) fires
        # Finished by the worker's clock too (its step), while the cluster runs.
        while time.monotonic() < deadline and not (
            provider.receipts()["unique"] == 5
            and Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.FINISHED
        ):
            assert cluster.poll() is None, cluster.log()[-2000:]
            time.sleep(0.1)
    assert provider.receipts()["unique"] == 5
    first = min(r["at"] for r in provider.requests())
    assert first >= start.timestamp()  # nothing before its start
    print(f"first request {first - start.timestamp():.2f}s after start_at")
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.FINISHED


def test_the_answer_says_running_when_the_worker_started_the_campaign_first(manager_api):
    """The worker's clock may start an in-window campaign between the create's commit
    and its answer: the answer still reads the campaign as it is then."""
    from unittest import mock

    make_clients(1)
    real = lifecycle.step

    def worker_gets_there_first(now, *, campaign_id=None):
        real(timezone.now())  # the clock's step, for every campaign
        return real(now, campaign_id=campaign_id)

    now = timezone.now()
    with mock.patch("messaging.engine.lifecycle.step", worker_gets_there_first):
        response = manager_api.post(
            "/api/campaigns/",
            {
                "text": "Now",
                "start_at": (now - timedelta(seconds=1)).isoformat(),
                "end_at": (now + timedelta(hours=1)).isoformat(),
            },
        )
    assert response.status_code == 201
    assert response.json()["status"] == "running"


def test_the_clock_also_reclaims_dead_leases_and_finishes_campaigns():
    """After a crash, nothing waits for the minute's housekeeping tick."""
    from messaging.engine import clock
    from messaging.models import Message, MessageStatus

    make_clients(2)
    from tests.engine.conftest import running_campaign

    campaign = running_campaign()
    past = timezone.now() - timedelta(seconds=1)
    Message.objects.filter(campaign=campaign).update(status=MessageStatus.SENDING, lease_until=past)
    CampaignCounts.objects.filter(pk=campaign.pk).update(pending=0, sending=2)
    clock.tick(set(), {})
    assert CampaignCounts.objects.get(pk=campaign.pk).pending == 2  # back in the queue
    Message.objects.filter(campaign=campaign).update(status=MessageStatus.SENT)
    CampaignCounts.objects.filter(pk=campaign.pk).update(pending=0, sent=2)
    clock.tick(set(), {})
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.FINISHED
