"""One state machine: every status write, the engine's included, is a row of TRANSITIONS."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from messaging import services
from messaging.engine import lifecycle
from messaging.models import Campaign, CampaignCounts, CampaignStatus, Message, MessageStatus
from messaging.models.campaigns import (
    TRANSITIONS,
    StatusWriteRefused,
    TransitionRefused,
)
from messaging.models.counters import move_messages
from tests.conftest import force_status, make_campaign, make_client

pytestmark = pytest.mark.django_db

MOVES = [
    (action, to, status)
    for action, transition in TRANSITIONS.items()
    for to in transition.to
    for status in CampaignStatus.values
]


@pytest.mark.parametrize(("action", "to", "status"), MOVES)
def test_a_move_happens_exactly_from_the_statuses_the_table_allows(action, to, status):
    campaign = make_campaign()
    force_status(campaign, status)
    moved = Campaign.objects.filter(pk=campaign.pk).move(action, to)
    allowed = status in TRANSITIONS[action].allowed_from
    assert moved == (1 if allowed else 0)
    assert Campaign.objects.get(pk=campaign.pk).status == (to if allowed else status)


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_a_move_to_a_status_the_action_does_not_lead_to_is_a_bug(action):
    campaign = make_campaign()
    elsewhere = [s for s in CampaignStatus.values if s not in TRANSITIONS[action].to]
    for status in elsewhere:
        with pytest.raises(StatusWriteRefused):
            Campaign.objects.filter(pk=campaign.pk).move(action, status)


def test_a_status_written_around_the_table_is_refused():
    campaign = make_campaign()
    with pytest.raises(StatusWriteRefused):
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.RUNNING)
    with pytest.raises(StatusWriteRefused):
        Campaign.objects.bulk_update([campaign], ["status"])
    campaign.status = CampaignStatus.RUNNING
    with pytest.raises(StatusWriteRefused):
        campaign.save()
    with pytest.raises(StatusWriteRefused):
        campaign.save(update_fields=["status"])
    campaign.save(update_fields=["name"])  # other fields are written as ever
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SCHEDULED


def test_no_module_writes_a_campaign_status_but_the_gateway():
    """Besides the runtime guard: no `status=` update or `.status =` assignment on a
    campaign anywhere in the product code (messages move through status_changes)."""
    assignment = re.compile(r"campaign\w*\.status\s*=(?!=)", re.IGNORECASE)
    update = re.compile(r"Campaign\.objects.*\.(update|bulk_update)\(.*status")
    root = Path(settings.BASE_DIR)
    offenders = []
    for path in [*root.glob("messaging/**/*.py"), *root.glob("dashboard/**/*.py")]:
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if assignment.search(line) or update.search(line):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_engine_leaves_a_draft_alone():
    make_client("79160000001")
    now = timezone.now()
    draft = services.create_campaign(
        values={"text": "Hi", "start_at": now - timedelta(minutes=1), "end_at": now + timedelta(1)},
        draft=True,
    )
    assert lifecycle.start_due_campaigns(now) == []
    assert not lifecycle.has_due_work(now)
    assert lifecycle.next_due_at(now) is None
    lifecycle.finish_done(now + timedelta(days=2))
    lifecycle.expire_overdue(now + timedelta(days=2))
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT and not Message.objects.exists()


def test_the_engine_moves_go_through_the_table():
    """scheduled -> running (start), running -> finished (finish), finished -> running
    (reopen: a later end gives expired messages another chance)."""
    make_client("79160000001")
    now = timezone.now()
    campaign = services.create_campaign(
        values={"text": "Hi", "start_at": now + timedelta(minutes=1), "end_at": now + timedelta(1)}
    )
    now += timedelta(minutes=2)
    assert lifecycle.start_campaign(campaign.pk, now)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    move_messages(campaign.messages.all(), [MessageStatus.PENDING], MessageStatus.EXPIRED)
    assert lifecycle.finish_done(now) == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    services.update_campaign(campaign=campaign, values={"end_at": now + timedelta(days=2)})
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING and campaign.finished_at is None


def test_a_cancel_records_how_many_were_with_the_provider():
    clients = [make_client(f"7916000000{i}") for i in range(5)]
    campaign = make_campaign(start_in=timedelta(minutes=-1))
    lifecycle.start_campaign(campaign.pk, timezone.now())
    in_flight = Message.objects.filter(client__in=clients[:2])
    move_messages(in_flight, [MessageStatus.PENDING], MessageStatus.SENDING)
    cancelled = services.cancel_campaign(campaign=campaign)
    assert cancelled.in_flight_at_cancel == 2
    assert CampaignCounts.objects.get(pk=campaign.pk).cancelled == 5
    assert Campaign.objects.get(pk=campaign.pk).in_flight_at_cancel == 2


def test_a_move_the_table_does_not_allow_from_the_status_read_is_refused():
    campaign = make_campaign()
    force_status(campaign, CampaignStatus.CANCELLED)
    campaign.refresh_from_db()
    with pytest.raises(TransitionRefused, match="cannot be paused"):
        campaign.move("pause", CampaignStatus.PAUSED, paused_at=timezone.now())
    assert campaign.status == CampaignStatus.CANCELLED and campaign.paused_at is None
    stored = Campaign.objects.get(pk=campaign.pk)
    assert stored.status == CampaignStatus.CANCELLED and stored.paused_at is None


def test_a_move_of_a_row_changed_since_it_was_read_is_refused_and_writes_nothing():
    """What the services and the engine hold may be stale (SQLite locks no row): the move
    checks the stored status too, and says what it is now."""
    campaign = make_campaign()  # scheduled, as read
    force_status(campaign, CampaignStatus.PAUSED)  # meanwhile
    with pytest.raises(TransitionRefused, match="paused campaign cannot be started"):
        campaign.move("start", CampaignStatus.RUNNING, targets_selected_at=timezone.now())
    stored = Campaign.objects.get(pk=campaign.pk)
    assert stored.status == CampaignStatus.PAUSED and stored.targets_selected_at is None


def test_a_start_refused_by_a_pause_meanwhile_selects_no_targets():
    make_client("79160000001")
    campaign = make_campaign()
    real = lifecycle.select_targets

    def paused_meanwhile(campaign, now):
        force_status(campaign.pk, CampaignStatus.PAUSED)
        return real(campaign, now)

    with mock.patch("messaging.engine.lifecycle.select_targets", paused_meanwhile):
        assert not lifecycle.start_campaign(campaign.pk, campaign.start_at)
    # The pause is simulated inside the start's own transaction here, so it is rolled back
    # with the refused start; what matters is that nothing of the start remains.
    assert Campaign.objects.get(pk=campaign.pk).targets_selected_at is None
    assert not Message.objects.exists()
    assert CampaignCounts.objects.get(pk=campaign.pk).pending == 0


@pytest.mark.parametrize(
    ("operation", "status"),
    [
        (lambda c: services.launch_campaign(campaign=c), CampaignStatus.SCHEDULED),
        (lambda c: services.pause_campaign(campaign=c), CampaignStatus.FINISHED),
        (lambda c: services.resume_campaign(campaign=c), CampaignStatus.RUNNING),
        (lambda c: services.cancel_campaign(campaign=c), CampaignStatus.CANCELLED),
    ],
)
def test_a_person_s_move_the_table_refuses_changes_nothing(operation, status):
    campaign = make_campaign()
    force_status(campaign, status)
    with pytest.raises(TransitionRefused):
        operation(campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == status
