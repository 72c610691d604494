"""A send window that does not open before the end (the 3-minute campaign at 03:33 Moscow
with a 09:00-21:00 window): the review and the form say so before launch; the engine
expires those messages at once, says why in the future tense, and keeps the campaign
running, not "Finished", until its end (an edit may still give them a window)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from messaging import services, tasks
from messaging.campaigns.review import review_campaign
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.reporting.diagnosis import explain_campaign
from messaging.reporting.wording import describe_message
from tests.engine.conftest import make_clients, run_pump

pytestmark = pytest.mark.django_db

MOSCOW = ZoneInfo("Europe/Moscow")
AT_0333 = datetime(2026, 11, 27, 3, 33, tzinfo=MOSCOW)


@pytest.fixture
def night(time_machine):
    time_machine.move_to(AT_0333, tick=True)
    with timezone.override(MOSCOW):
        yield


def three_minute_draft(**values) -> Campaign:
    values = {
        "text": "Good morning",
        "start_at": AT_0333,
        "end_at": AT_0333 + timedelta(minutes=3),
        "send_window_start": time(9, 0),
        "send_window_end": time(21, 0),
        **values,
    }
    return services.create_campaign(values=values, draft=True)


def test_the_review_and_the_form_warn_before_launch(night, as_manager):
    make_clients(5, tz="Europe/Moscow")
    make_clients(2, prefix="7903", tz="Asia/Vladivostok")  # 10:33 there: inside the window
    draft = three_minute_draft()
    review = review_campaign(draft)
    assert (review.coverage.opens, review.coverage.never_opens) == (2, 5)
    assert {w.code for w in review.warnings} >= {"window_never_opens", "short"}

    preview = as_manager.get(
        reverse("dashboard:campaign-create"),
        {
            "start_at": "2026-11-27T03:33",
            "end_at": "2026-11-27T03:36",
            "send_window_start": "09:00",
            "send_window_end": "21:00",
        },
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="campaign-preview",
    ).content.decode()
    assert "For 5 clients the send window does not open before the end at 03:36" in preview


def test_messages_without_an_opening_expire_but_the_campaign_runs_to_its_end(night, provider):
    make_clients(3, tz="Europe/Moscow")
    campaign = services.launch_campaign(campaign=three_minute_draft())
    assert campaign.status == CampaignStatus.RUNNING
    run_pump(provider.url)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.EXPIRED}
    assert provider.receipts()["unique"] == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING  # not "Finished" 3 minutes early
    message = Message.objects.first()
    reason = describe_message(
        status=message.status,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at,
        last_error=message.last_error,
        end_at=campaign.end_at,
    )
    assert reason == (
        "The client's send window will not open before the end at 03:36: "
        "this message will not go out."
    )
    diagnosis = explain_campaign(campaign)
    assert diagnosis.held.code == "window_closed" and diagnosis.estimate is None

    with time_machine.travel(campaign.end_at + timedelta(seconds=1), tick=False):
        tasks.tick()
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.FINISHED
        past = describe_message(
            status=message.status,
            attempts=message.attempts,
            next_attempt_at=message.next_attempt_at,
            last_error=message.last_error,
            end_at=campaign.end_at,
        )
        assert past == "The client's send window did not open before the campaign's end."


def test_a_new_window_before_the_end_sends_them_after_all(night, provider):
    make_clients(3, tz="Europe/Moscow")
    campaign = services.launch_campaign(campaign=three_minute_draft())
    run_pump(provider.url)
    assert Message.objects.filter(status=MessageStatus.EXPIRED).count() == 3
    services.update_campaign(
        campaign=campaign, values={"send_window_start": time(0, 0), "send_window_end": time(23)}
    )
    run_pump(provider.url)
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 3
    assert provider.receipts()["unique"] == 3
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
