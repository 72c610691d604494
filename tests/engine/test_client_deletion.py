"""Rule 11: deleting a client cancels its unsent messages and keeps its sent history."""

from __future__ import annotations

import pytest

from messaging import services
from messaging.models import CampaignCounts, Client, Message, MessageStatus
from messaging.reporting.stats import overall_stats
from tests.engine.conftest import make_clients, run_pump, running_campaign

pytestmark = pytest.mark.django_db


def test_deleting_a_client_cancels_unsent_and_keeps_sent_history(provider):
    first, second = make_clients(2)
    done = running_campaign(name="done")
    run_pump(provider.url)
    later = running_campaign(name="later")

    services.delete_client(client=first)

    sent = Message.objects.get(campaign=done, phone=first.phone)
    assert sent.status == MessageStatus.SENT and sent.client_id is None
    cancelled = Message.objects.get(campaign=later, phone=first.phone)
    assert cancelled.status == MessageStatus.CANCELLED
    run_pump(provider.url)
    assert CampaignCounts.objects.get(pk=later.pk).as_dict() == {
        "pending": 0,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "expired": 0,
        "cancelled": 1,
    }
    assert overall_stats()["totals"]["sent"] == 3
    assert not Client.objects.filter(pk=first.pk).exists()
    assert second.messages.count() == 2
