"""Rule 10 while senders are busy: an edit applies to every claim that begins after it
commits (a sender never puts a message back on the window it read before the edit)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from messaging import services
from messaging.campaigns.windows import next_send_time
from messaging.engine import claims
from messaging.models import Message, MessageStatus
from tests.engine.conftest import make_clients, run_pump, running_campaign

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MOSCOW = ZoneInfo("Europe/Moscow")


def windows() -> tuple[tuple, tuple]:
    """(a window open now, a window closed now) in Moscow time."""
    local = timezone.now().astimezone(MOSCOW)

    def at(hours: float):
        return (local + timedelta(hours=hours)).time().replace(second=0, microsecond=0)

    return (at(-2), at(2)), (at(3), at(4))


def test_twenty_window_edits_in_a_row_each_apply_to_the_next_claim(provider):
    provider.configure(latency_ms=150)
    make_clients(800, prefix="7926")  # keeps the sender busy all along
    make_clients(300, prefix="7916", tz="Europe/Moscow")
    running_campaign(operator_codes=["926"], name="busy")
    opened, closed = windows()
    edited = running_campaign(
        operator_codes=["916"], send_window_start=closed[0], send_window_end=closed[1]
    )

    def busy_sender():
        try:
            run_pump(provider.url, concurrency=6, budget=60)
        finally:
            connection.close()

    sender = threading.Thread(target=busy_sender)
    sender.start()
    pending = Message.objects.filter(campaign=edited, status=MessageStatus.PENDING)
    try:
        for round_ in range(20):
            window = opened if round_ % 2 else closed
            services.update_campaign(
                campaign=edited,
                values={"send_window_start": window[0], "send_window_end": window[1]},
            )
            # The next claim, made right after the edit committed, follows the new window.
            now = timezone.now()
            token = uuid.uuid4()
            jobs = claims.claim(edited.pk, token=token, now=now, limit=1000)
            if window is opened:
                # Nothing waits for the old window's opening: all due messages are ours
                # or already taken by the busy sender.
                assert not pending.filter(next_attempt_at__gt=now).exists(), round_
                claims.release(jobs, token=token)
            else:
                assert jobs == [], round_
                opening = next_send_time(now, "Europe/Moscow", *closed)
                waiting = set(pending.values_list("next_attempt_at", flat=True))
                assert waiting <= {opening} | {t for t in waiting if t <= now}, round_
            time.sleep(0.2)  # let the busy sender claim meanwhile
    finally:
        sender.join()
    assert not Message.objects.filter(status=MessageStatus.SENDING).exists()
