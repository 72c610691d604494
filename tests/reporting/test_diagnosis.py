"""Why isn't it sending? The reasons and the finish estimate, from
messaging/reporting/diagnosis.py."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from messaging import services
from messaging.campaigns.audience import WINDOW_CLOSED_TO_THE_END
from messaging.models import (
    Campaign,
    CircuitState,
    Message,
    MessageStatus,
    ProviderState,
    SendBucket,
)
from messaging.models.counters import move_messages
from messaging.reporting.diagnosis import COUNT_CAP, explain_campaign
from tests.engine.conftest import make_clients, running_campaign

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 3, 4, 11, 0, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _utc_at_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    with timezone.override("UTC"):
        yield


def started(count: int = 3, **values):
    make_clients(count)
    values.setdefault("start_at", NOW - timedelta(minutes=1))
    values.setdefault("end_at", NOW + timedelta(hours=2))
    campaign = running_campaign(**values)
    return campaign


def test_a_paused_campaign_says_who_paused_it_and_when(manager, time_machine):
    time_machine.move_to(NOW - timedelta(minutes=5), tick=False)  # paused 5 minutes ago
    campaign = running_campaign(
        start_at=NOW - timedelta(minutes=6), end_at=NOW + timedelta(hours=1)
    )
    services.pause_campaign(campaign=campaign, user=manager)
    campaign.refresh_from_db()
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.codes == ["paused"]
    assert diagnosis.reasons[0].text == (
        "Paused by manager at 10:55: nothing is sent until it is resumed."
    )


def test_messages_waiting_for_the_window_give_the_opening_in_their_zone():
    campaign = started(3, send_window_start=time(9, 0), send_window_end=time(18, 0))
    Message.objects.filter(campaign=campaign).update(
        next_attempt_at=NOW + timedelta(hours=3, minutes=15)
    )
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.codes == ["window"]
    assert diagnosis.reasons[0].text == (
        "3 messages are waiting for the send window, which opens at 09:00 in each client's "
        "time zone (next at 14:15 your time)."
    )


def test_the_provider_refusing_the_credentials_is_said_first():
    campaign = started(2)
    ProviderState.objects.update_or_create(pk=1, defaults={"credentials_rejected": True})
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.codes == ["credentials"]
    # The marketer's words; the setting and the HTTP codes are the Managers' detail.
    assert "refuses Herald's access" in diagnosis.reasons[0].text
    assert "PROVIDER_TOKEN" not in diagnosis.reasons[0].text
    assert "PROVIDER_TOKEN" in diagnosis.reasons[0].detail
    assert "401/403" in diagnosis.reasons[0].detail


def test_an_outage_says_until_when_sending_is_paused():
    campaign = started(2)
    ProviderState.objects.update_or_create(
        pk=1,
        defaults={"circuit": CircuitState.OPEN, "opened_until": NOW + timedelta(seconds=42)},
    )
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.codes == ["outage"]
    assert diagnosis.reasons[0].text == (
        "The provider is not accepting messages; next try at 11:01."
    )
    assert "Circuit breaker open" in diagnosis.reasons[0].detail


def test_retries_say_when_the_next_one_is():
    campaign = started(3)
    first = Message.objects.filter(campaign=campaign).order_by("id").first()
    Message.objects.filter(pk=first.pk).update(
        attempts=1, next_attempt_at=NOW + timedelta(seconds=20)
    )
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.codes == ["retries"]
    assert diagnosis.reasons[0].text == (
        "1 message did not go through and will be retried (next at 11:00:50)."
    )


def test_the_rate_cap_is_named_when_sending_at_it(settings):
    settings.PROVIDER_RATE_LIMIT = 2
    campaign = started(3)
    Message.objects.filter(campaign=campaign).update(next_attempt_at=NOW - timedelta(seconds=1))
    SendBucket.objects.create(campaign=campaign, minute=NOW.replace(second=0), sent=120)
    diagnosis = explain_campaign(campaign, now=NOW)
    assert "rate_cap" in diagnosis.codes
    assert "at most 2 messages a second" in diagnosis.reasons[-1].text


def test_the_finish_is_estimated_from_the_current_rate():
    campaign = started(10)
    # 120 sent in this minute, 30 s into it: 2 a second; 10 unsent take 5 s.
    SendBucket.objects.create(campaign=campaign, minute=NOW.replace(second=0), sent=120)
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.estimate == NOW + timedelta(seconds=5)
    assert diagnosis.estimate_text == (
        "At the current rate (2.0 a second) the last message should go out around 11:00."
    )


def test_a_rate_too_slow_for_the_end_says_how_many_will_not_be_sent():
    campaign = started(10, end_at=NOW + timedelta(seconds=2))
    SendBucket.objects.create(campaign=campaign, minute=NOW.replace(second=0), sent=120)
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.estimate is None
    assert "about 6 messages will not be sent before the end at 11:00" in diagnosis.estimate_text


def test_finished_and_cancelled_campaigns_have_nothing_to_explain():
    campaign = started(1)
    services.cancel_campaign(campaign=campaign)
    campaign.refresh_from_db()
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.reasons == [] and diagnosis.estimate_text == ""


def test_counts_stop_at_the_cap(monkeypatch):
    monkeypatch.setattr("messaging.reporting.diagnosis.COUNT_CAP", 2)
    campaign = started(3, send_window_start=time(9, 0), send_window_end=time(18, 0))
    Message.objects.filter(campaign=campaign).update(next_attempt_at=NOW + timedelta(hours=1))
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.reasons[0].text.startswith("more than 2 messages are waiting")
    assert COUNT_CAP == 10_000


def test_pausing_through_the_api_or_the_page_records_who(manager, manager_api, as_manager):
    campaign = running_campaign(
        start_at=NOW - timedelta(minutes=6), end_at=NOW + timedelta(hours=1)
    )
    assert manager_api.post(f"/api/campaigns/{campaign.pk}/pause/").status_code == 200
    campaign.refresh_from_db()
    assert (campaign.paused_by, campaign.paused_at) == (manager, NOW)
    services.resume_campaign(campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(paused_by=None, paused_at=None)
    assert as_manager.post(f"/campaigns/{campaign.pk}/pause/").status_code == 302
    campaign.refresh_from_db()
    assert campaign.paused_by == manager


def test_an_outage_past_its_hold_says_the_provider_is_being_tested():
    campaign = started(2)
    ProviderState.objects.update_or_create(
        pk=1,
        defaults={"circuit": CircuitState.OPEN, "opened_until": NOW - timedelta(seconds=1)},
    )
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.codes == ["outage"]
    assert "one message is testing it" in diagnosis.reasons[0].text


def test_a_slow_rate_is_given_per_minute():
    campaign = started(10)
    SendBucket.objects.create(campaign=campaign, minute=NOW.replace(second=0), sent=3)
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.estimate_text.startswith("At the current rate (3 a minute)")


def test_no_rate_estimate_while_messages_wait_for_their_window():
    campaign = started(3, send_window_start=time(9, 0), send_window_end=time(18, 0))
    Message.objects.filter(campaign=campaign).update(next_attempt_at=NOW + timedelta(hours=1))
    SendBucket.objects.create(campaign=campaign, minute=NOW.replace(second=0), sent=120)
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.estimate is None
    assert diagnosis.estimate_text == (
        "Messages waiting for their send window go out as it opens, until the end at 13:00."
    )


def _hold(kind: str, campaign, manager) -> None:
    if kind == "outage":
        ProviderState.objects.update_or_create(
            pk=1,
            defaults={"circuit": CircuitState.OPEN, "opened_until": NOW + timedelta(seconds=42)},
        )
    elif kind == "credentials":
        ProviderState.objects.update_or_create(pk=1, defaults={"credentials_rejected": True})
    elif kind == "paused":
        services.pause_campaign(campaign=campaign, user=manager)
    elif kind == "window":
        Message.objects.filter(campaign=campaign).update(next_attempt_at=NOW + timedelta(hours=3))


@pytest.mark.parametrize("kind", ["outage", "credentials", "paused", "window"])
def test_while_sending_is_held_no_finish_is_estimated(kind, manager, as_viewer):
    campaign = started(10, send_window_start=time(9, 0), send_window_end=time(18, 0))
    # Sending fast this minute: without the hold, a finish would be promised.
    SendBucket.objects.create(campaign=campaign, minute=NOW.replace(second=0), sent=120)
    assert explain_campaign(campaign, now=NOW).estimate is not None
    _hold(kind, campaign, manager)
    campaign.refresh_from_db()
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.held is not None and diagnosis.held.code == kind
    assert diagnosis.estimate is None
    assert "should go out" not in diagnosis.estimate_text
    live = as_viewer.get(
        f"/campaigns/{campaign.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="campaign-live"
    ).content.decode()
    assert f'data-held="{kind}"' in live
    assert ("Paused" if kind == "paused" else "Sending held") in live
    assert "should go out" not in live


def test_a_campaign_whose_messages_expired_early_is_held_until_its_end():
    campaign = started(2, send_window_start=time(9, 0), send_window_end=time(18, 0))
    move_messages(
        campaign.messages.all(),
        [MessageStatus.PENDING],
        MessageStatus.EXPIRED,
        last_error=WINDOW_CLOSED_TO_THE_END,
    )
    diagnosis = explain_campaign(campaign, now=NOW)
    assert diagnosis.held.code == "window_closed"
    assert diagnosis.held.text == (
        "2 messages will not go out: their clients' send window does not open before the end "
        "at 13:00. Change the send window or the end to send them."
    )
