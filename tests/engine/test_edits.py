"""Rule 10: edits before start change everything; after start only text, end and window."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from messaging import services
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.models.counters import recount
from tests.engine.conftest import TOKEN, make_clients, run_pump, running_campaign

pytestmark = pytest.mark.django_db


def test_text_edit_after_start_applies_to_unsent_messages(scripted):
    make_clients(2)
    campaign = running_campaign(text="Old text")
    first = Message.objects.order_by("id").first()
    Message.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    services.update_campaign(campaign=campaign, values={"text": "New text"})
    run_pump(scripted.url, token=TOKEN)
    assert {r["body"]["text"] for r in scripted.requests} == {"New text"}


def test_filter_edit_after_start_is_refused_with_a_clear_message():
    campaign = running_campaign(operator_codes=["916"])
    with pytest.raises(ValidationError) as refused:
        services.update_campaign(campaign=campaign, values={"tags": ["vip"]})
    assert "filter cannot change" in str(refused.value)
    assert Campaign.objects.get(pk=campaign.pk).tags == []


def window_from_2_to_4_hours_ahead() -> tuple:
    """A UTC send window that opens after the end of a campaign one hour long."""
    utc_now = timezone.now().astimezone(ZoneInfo("UTC"))
    opening = (utc_now + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    closing = (utc_now + timedelta(hours=4)).time().replace(second=0, microsecond=0)
    return opening, closing


def test_end_edit_after_start_applies_to_unsent_messages(provider):
    make_clients(1, tz="UTC")
    opening, closing = window_from_2_to_4_hours_ahead()
    campaign = running_campaign(
        length=timedelta(hours=1), send_window_start=opening, send_window_end=closing
    )
    run_pump(provider.url)  # the window opens after the end: it would expire...
    assert Message.objects.get().status == MessageStatus.EXPIRED

    campaign2 = running_campaign(
        length=timedelta(hours=1),
        send_window_start=opening,
        send_window_end=closing,
        name="second",
        operator_codes=["916"],
    )
    services.update_campaign(
        campaign=campaign2, values={"end_at": campaign2.end_at + timedelta(hours=5)}
    )
    run_pump(provider.url)
    waiting = campaign2.messages.get()
    assert waiting.status == MessageStatus.PENDING  # ...but now it waits for the window
    with time_machine.travel(waiting.next_attempt_at + timedelta(seconds=1), tick=True):
        run_pump(provider.url)
    assert campaign2.messages.get().status == MessageStatus.SENT
    assert campaign.pk != campaign2.pk


def test_window_edit_after_start_reconsiders_waiting_messages(provider):
    make_clients(1, tz="UTC")
    now_utc = timezone.now().astimezone(ZoneInfo("UTC"))
    closed_start = (now_utc + timedelta(hours=3)).time().replace(second=0, microsecond=0)
    closed_end = (now_utc + timedelta(hours=4)).time().replace(second=0, microsecond=0)
    campaign = running_campaign(
        length=timedelta(days=1), send_window_start=closed_start, send_window_end=closed_end
    )
    run_pump(provider.url)
    assert Message.objects.get().status == MessageStatus.PENDING
    services.update_campaign(
        campaign=campaign,
        values={
            "send_window_start": (now_utc - timedelta(hours=1)).time().replace(microsecond=0),
            "send_window_end": (now_utc + timedelta(hours=1)).time().replace(microsecond=0),
        },
    )
    run_pump(provider.url)
    assert Message.objects.get().status == MessageStatus.SENT


def test_moving_the_end_later_gives_expired_messages_another_chance(provider):
    # The window opens after the end: the message expires at once, and the campaign, with
    # nothing left to send, still runs until its end (an edit may give it a window)...
    make_clients(1, tz="UTC")
    opening, closing = window_from_2_to_4_hours_ahead()
    campaign = running_campaign(
        length=timedelta(hours=1), send_window_start=opening, send_window_end=closing
    )
    run_pump(provider.url)
    campaign.refresh_from_db()
    assert Message.objects.get().status == MessageStatus.EXPIRED
    assert campaign.status == CampaignStatus.RUNNING

    # ...until the end moves past the opening: it waits again and the campaign runs again.
    services.update_campaign(
        campaign=campaign, values={"end_at": campaign.end_at + timedelta(hours=5)}
    )
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    assert recount(campaign.pk).as_dict() == campaign.counts.as_dict()
    assert campaign.counts.pending == 1 and campaign.counts.expired == 0
    run_pump(provider.url)
    waiting = Message.objects.get()
    assert waiting.status == MessageStatus.PENDING and waiting.next_attempt_at > timezone.now()
    with time_machine.travel(waiting.next_attempt_at + timedelta(seconds=1), tick=True):
        run_pump(provider.url)
    assert Message.objects.get().status == MessageStatus.SENT
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert provider.receipts()["unique"] == 1


def test_a_cancelled_campaign_cannot_be_edited():
    campaign = running_campaign()
    services.cancel_campaign(campaign=campaign)
    with pytest.raises(ValidationError) as refused:
        services.update_campaign(
            campaign=campaign, values={"end_at": campaign.end_at + timedelta(hours=1)}
        )
    assert "cancelled" in str(refused.value)
