"""Rule 8: a killed worker loses nothing; no message is recorded as sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from messaging import tasks
from messaging.engine.claims import lease_seconds
from messaging.engine.outcomes import Outcome
from messaging.engine.sender import Sender
from messaging.models import CampaignCounts, Message, MessageStatus
from tests.engine.conftest import make_clients, make_sender, run_pump, running_campaign, send_now

pytestmark = pytest.mark.django_db


def claim_and_die(url: str) -> Sender:
    """A pump that claims messages and then dies before sending them."""
    pump = make_sender(url, concurrency=8)
    pump._tick(timezone.now())
    pump._claim(timezone.now(), 8)
    return pump


def test_messages_of_a_killed_worker_return_after_the_lease(provider):
    make_clients(8)
    campaign = running_campaign()
    claim_and_die(provider.url)
    assert CampaignCounts.objects.get(pk=campaign.pk).sending == 8
    # Before the lease ends, nobody else sends them.
    run_pump(provider.url, budget=1)
    assert provider.stats()["total"] == 0

    with time_machine.travel(timezone.now() + timedelta(seconds=lease_seconds() + 1), tick=True):
        tasks.tick()  # housekeeping reclaims expired leases
        assert CampaignCounts.objects.get(pk=campaign.pk).pending == 8
        run_pump(provider.url)
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 8
    ids = {str(i) for i in Message.objects.values_list("id", flat=True)}
    assert set(provider.receipts()["receipts"]) == ids  # sent again with the same msgIds


def test_a_late_result_of_a_presumed_dead_worker_is_not_recorded_twice(provider):
    make_clients(1)
    campaign = running_campaign()
    slow = claim_and_die(provider.url)
    job = slow.queue[0]
    with time_machine.travel(timezone.now() + timedelta(seconds=lease_seconds() + 1), tick=True):
        tasks.tick()
        run_pump(provider.url)  # a healthy pump sends it again
        # The first worker was only slow: its request now succeeds and it records.
        slow.outcomes.append(Outcome(job, result=send_now(provider.url, job)))
        slow._flush()
    message = Message.objects.get()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1  # only the recorded send counts
    assert message.delivery_attempts.count() == 2  # both requests are in the ledger
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 1
    assert provider.receipts()["receipts"][str(message.pk)]["count"] == 2
