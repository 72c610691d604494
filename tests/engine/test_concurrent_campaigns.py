"""Rule 8 under the harshest ordinary case: several campaigns at once, two worker nodes,
a flaky provider and a global rate cap. Nothing is sent twice, nothing accepted is lost."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from messaging import services
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.models.counters import CampaignCounts, recount
from tests.engine.conftest import make_clients
from tests.support.cluster import running_cluster

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RATE_CAP = 120


def test_three_campaigns_two_worker_nodes_faults_and_a_rate_cap(provider):
    provider.configure(
        latency_ms=30,
        latency_jitter_ms=20,
        error_rate=0.15,
        garbage_rate=0.10,
        hang_rate=0.03,
        hang_seconds=5,
    )
    for prefix in ("7916", "7926", "7903"):
        make_clients(250, prefix=prefix)
    now = timezone.now()
    campaigns = [
        services.create_campaign(
            values={
                "text": f"Campaign {code}",
                "start_at": now - timedelta(seconds=1),
                "end_at": now + length,
                "operator_codes": [code],
            }
        )
        for code, length in (
            ("916", timedelta(seconds=90)),
            ("926", timedelta(seconds=90)),
            ("903", timedelta(seconds=6)),  # a short deadline: its tail expires
        )
    ]
    env = {
        "ENGINE_PUMPS": "4",  # slots shared by both nodes
        "Q_WORKERS": "3",
        "PROVIDER_CONCURRENCY": "40",
        "ENGINE_FLUSH_BATCH": "7",  # many small, interleaved write transactions
        "PROVIDER_RATE_LIMIT": str(RATE_CAP),
        "PROVIDER_READ_TIMEOUT": "2",
        "RETRY_BASE_SECONDS": "0.2",
        "RETRY_MAX_SECONDS": "1",
        "CIRCUIT_COOLDOWN_SECONDS": "1",
        "CIRCUIT_MAX_COOLDOWN_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
    }
    with running_cluster(provider.url, **env) as one, running_cluster(provider.url, **env) as two:
        time.sleep(8)
        provider.configure(outage=True)  # a short outage in the middle
        time.sleep(3)
        provider.configure(outage=False)
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            statuses = set(
                Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).values_list(
                    "status", flat=True
                )
            )
            if statuses == {CampaignStatus.FINISHED}:
                break
            for node in (one, two):
                assert node.poll() is None, node.log()[-3000:]
            time.sleep(0.5)
        logs = one.log() + two.log()
    assert statuses == {CampaignStatus.FINISHED}, statuses

    # No deadlock, no database error that reached a task, no crashed task, no result
    # that could not be recorded, in either node's log. (A wait for SQLite's write lock
    # that was retried is not an error; it is printed for the record.)
    for bad in ("deadlock", "Traceback", "could not record", "OperationalError"):
        assert bad not in logs, logs[logs.find(bad) - 2000 : logs.find(bad) + 2000]
    print(f"retried transient database errors: {logs.count('transient database error')}")

    receipts = provider.receipts()["receipts"]
    # Every msgId the provider accepted, it accepted once.
    twice = {msg_id: r["count"] for msg_id, r in receipts.items() if r["count"] > 1}
    assert not twice, twice
    # ... and every accepted message is recorded sent, never anything else.
    status_of = dict(Message.objects.values_list("id", "status"))
    accepted_recorded_otherwise = {
        msg_id: status_of.get(int(msg_id))
        for msg_id in receipts
        if status_of.get(int(msg_id)) != MessageStatus.SENT
    }
    assert not accepted_recorded_otherwise, accepted_recorded_otherwise
    sent_ids = {str(i) for i, s in status_of.items() if s == MessageStatus.SENT}
    assert sent_ids == set(receipts)  # and nothing is recorded sent that was not accepted

    # The counters equal the message rows, by construction.
    for campaign in campaigns:
        kept = CampaignCounts.objects.get(pk=campaign.pk).as_dict()
        assert kept == recount(campaign.pk).as_dict()
        assert kept["sending"] == kept["pending"] == 0
    short = CampaignCounts.objects.get(pk=campaigns[2].pk)
    assert short.expired > 0  # the short campaign's tail expired at its end

    # The rate cap held across both nodes: no second saw more requests than the cap.
    arrivals = sorted(r["at"] for r in provider.requests())
    per_second = Counter(int(t) for t in arrivals)
    assert max(per_second.values()) <= RATE_CAP, per_second.most_common(3)
    window = 0
    for i, first in enumerate(arrivals):
        while window < len(arrivals) and arrivals[window] - first < 1.0:
            window += 1
        assert window - i <= RATE_CAP, f"{window - i} requests within 1 s from {first}"
    assert connection.vendor in {"sqlite", "postgresql"}
