"""Rule 4: with a send window, a message goes out only inside the client's local window."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from messaging.campaigns.windows import in_window, next_send_time
from messaging.models import Client, Message, MessageStatus
from tests.engine.conftest import run_pump, running_campaign

UTC = ZoneInfo("UTC")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=UTC)


@pytest.mark.fast
@pytest.mark.parametrize(
    ("local", "start", "end", "inside"),
    [
        (time(10), time(9), time(21), True),
        (time(21), time(9), time(21), False),
        (time(8, 59), time(9), time(21), False),
        (time(23), time(21), time(9), True),
        (time(3), time(21), time(9), True),
        (time(9), time(21), time(9), False),
        (time(12), time(21), time(9), False),
    ],
)
def test_window_membership_including_across_midnight(local, start, end, inside):
    assert in_window(local, start, end) is inside


@pytest.mark.fast
def test_next_opening_is_computed_in_the_clients_zone():
    # 03:00 UTC is 06:00 in Moscow and 12:00 in Tokyo.
    assert next_send_time(at(3), "Europe/Moscow", time(9), time(21)) == at(6)
    assert next_send_time(at(3), "Asia/Tokyo", time(9), time(21)) == at(3)
    assert next_send_time(at(3), "Asia/Tokyo", time(21), time(9)) == at(12)
    assert next_send_time(at(3), "America/New_York", time(21), time(9)) == at(3)


@pytest.mark.fast
def test_next_opening_across_a_dst_change():
    # New York springs forward on 2027-03-14: 09:00 local is 13:00 UTC that day.
    now = datetime(2027, 3, 14, 2, 0, tzinfo=UTC)  # 21:00 the day before, local
    assert next_send_time(now, "America/New_York", time(9), time(17)) == datetime(
        2027, 3, 14, 13, 0, tzinfo=UTC
    )


@pytest.mark.django_db
def test_messages_wait_for_each_clients_local_window(provider):
    moscow = Client.objects.create(phone="79160000001", timezone="Europe/Moscow")
    tokyo = Client.objects.create(phone="79160000002", timezone="Asia/Tokyo")
    with time_machine.travel(at(3), tick=True):  # 06:00 Moscow, 12:00 Tokyo
        campaign = running_campaign(
            send_window_start=time(9), send_window_end=time(21), length=timedelta(days=1)
        )
        run_pump(provider.url)
    assert Message.objects.get(client=tokyo).status == MessageStatus.SENT
    waiting = Message.objects.get(client=moscow)
    assert waiting.status == MessageStatus.PENDING
    assert waiting.next_attempt_at == at(6)
    assert provider.stats()["total"] == 1

    with time_machine.travel(at(6, 0), tick=True):  # 09:00 in Moscow
        run_pump(provider.url)
    assert Message.objects.get(client=moscow).status == MessageStatus.SENT
    assert campaign.messages.filter(status=MessageStatus.SENT).count() == 2


@pytest.mark.django_db
def test_overnight_window_with_clients_in_different_zones(provider):
    moscow = Client.objects.create(phone="79160000001", timezone="Europe/Moscow")
    new_york = Client.objects.create(phone="79160000002", timezone="America/New_York")
    # 20:00 UTC: 23:00 in Moscow (inside 21-09), 15:00 in New York (outside).
    with time_machine.travel(at(20), tick=True):
        running_campaign(
            send_window_start=time(21), send_window_end=time(9), length=timedelta(days=1)
        )
        run_pump(provider.url)
    assert Message.objects.get(client=moscow).status == MessageStatus.SENT
    later = Message.objects.get(client=new_york)
    assert later.status == MessageStatus.PENDING
    assert later.next_attempt_at == datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 21:00 NY


@pytest.mark.django_db
def test_message_expires_when_the_next_opening_is_after_end_at(provider):
    Client.objects.create(phone="79160000001", timezone="Europe/Moscow")
    with time_machine.travel(at(3), tick=True):  # 06:00 Moscow; window opens at 09:00
        running_campaign(
            send_window_start=time(9), send_window_end=time(21), length=timedelta(hours=2)
        )
        run_pump(provider.url)
    message = Message.objects.get()
    assert message.status == MessageStatus.EXPIRED
    assert "window" in message.last_error
    assert provider.stats()["total"] == 0
