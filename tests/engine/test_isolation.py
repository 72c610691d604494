"""Rule 13: one bad message (unexpected data, an error while preparing or recording it)
fails alone with a clear reason; it never stops a sender."""

from __future__ import annotations

import pytest

from messaging.models import CampaignCounts, Message, MessageStatus
from tests.engine.conftest import make_clients, run_pump, running_campaign

pytestmark = pytest.mark.django_db


def test_a_message_that_cannot_be_prepared_fails_alone_and_the_rest_is_sent(provider):
    make_clients(20)
    campaign = running_campaign()
    # Stored before phones were checked for ASCII digits (or by hand in the database).
    bad = Message.objects.order_by("id")[5]
    Message.objects.filter(pk=bad.pk).update(phone="7916123456\u00b2")
    run_pump(provider.url)
    bad.refresh_from_db()
    assert bad.status == MessageStatus.FAILED
    assert "Could not build the request" in bad.last_error
    assert "7916123456" in bad.last_error
    assert bad.attempts == 0  # no request was made for it
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert (counts.sent, counts.failed, counts.sending, counts.pending) == (19, 1, 0, 0)
    assert provider.receipts()["unique"] == 19


def test_a_result_that_cannot_be_recorded_fails_that_message_alone(provider, monkeypatch):
    from messaging.engine import recording

    make_clients(10)
    campaign = running_campaign()
    poisoned = Message.objects.order_by("id")[3].pk
    real_insert = recording.insert_attempts

    def insert_attempts(attempts):
        # A database that refuses one row (say, a value it cannot store).
        if any(message_id == poisoned for message_id, _ in attempts):
            from django.db import DataError

            raise DataError("value too long for this row")
        return real_insert(attempts)

    monkeypatch.setattr(recording, "insert_attempts", insert_attempts)
    reason, _ = run_pump(provider.url)
    assert reason == "idle"  # the sender carried on to the end
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    # The provider accepted all ten: the poisoned one is still recorded sent.
    assert counts.sent == 10
    assert Message.objects.get(pk=poisoned).delivery_attempts.count() == 0
    assert Message.objects.exclude(pk=poisoned).filter(delivery_attempts__isnull=True).count() == 0
