"""Rule 8: a database outage of up to ENGINE_OUTAGE_SECONDS (120 s) re-sends nothing.

A sender that cannot reach the database stops claiming and starting requests, keeps the
results of the requests it made, and records them first when the database is back; no
reclaim takes its messages meanwhile. The log says so in a few lines, not per message.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from messaging.engine import claims, holding, lifecycle, sender
from messaging.models import CampaignCounts, Message, MessageStatus
from messaging.models.counters import recount
from tests.engine.conftest import make_clients, make_sender, run_pump, running_campaign
from tests.support.outage import DriverCut


def held_recorded() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("herald_held_outcomes_total", {"result": "recorded"}) or 0


def assert_every_accepted_send_recorded_once(provider, campaign, total: int) -> None:
    receipts = provider.receipts()["receipts"]
    assert len(receipts) == total
    twice = {msg_id: r["count"] for msg_id, r in receipts.items() if r["count"] > 1}
    assert not twice, twice  # no msgId accepted twice
    sent = {str(i) for (i,) in Message.objects.filter(status=MessageStatus.SENT).values_list("id")}
    assert sent == set(receipts)  # every accepted msgId recorded sent, nothing else
    assert CampaignCounts.objects.get(pk=campaign.pk).as_dict() == recount(campaign.pk).as_dict()


@pytest.mark.django_db(transaction=True)
def test_a_sender_without_its_database_holds_its_results_and_records_them_when_it_is_back(
    provider, caplog
):
    provider.configure(latency_ms=400)
    make_clients(60)
    campaign = running_campaign()
    recorded_before = held_recorded()
    cut = DriverCut()
    # The database goes away while twenty requests are in flight, for three seconds.
    cutting = cut.run_for(3, when=lambda: provider.stats()["in_flight"] >= 10)
    with caplog.at_level(logging.INFO), connection.execute_wrapper(cut):
        reason, _ = run_pump(provider.url, concurrency=20)
    cutting.join()
    assert reason == "idle"

    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 60
    assert_every_accepted_send_recorded_once(provider, campaign, 60)
    # No request started while the sender knew the database was away (it notices at its
    # next database step, within a tick).
    during = [
        r["at"]
        for r in provider.requests()
        if cut.started_at + sender.TICK_SECONDS + 0.5 <= r["at"] < cut.stopped_at
    ]
    assert not during, f"{len(during)} requests started during the outage"
    # The results of the requests in flight were held, then recorded.
    assert held_recorded() - recorded_before >= 10

    lines = [r.getMessage() for r in caplog.records if r.name == "messaging.engine.sender"]
    assert sum("database unreachable: sender" in line for line in lines) == 1
    back = [line for line in lines if "database reachable again" in line]
    assert len(back) == 1 and "recorded=" in back[0], back
    assert not [r for r in caplog.records if r.exc_info], "no traceback"


@pytest.mark.django_db(transaction=True)
def test_a_sender_stopped_during_an_outage_gives_up_what_it_holds_within_its_stop_wait(
    provider, caplog, monkeypatch
):
    """Beyond what can wait, at-least-once: the messages stay in flight under their
    lease, and the log says how many results were given up, in one line."""
    from messaging.engine import shutdown

    monkeypatch.setattr(holding, "STOP_WAIT_SECONDS", 0.5)
    provider.configure(latency_ms=300)
    make_clients(20)
    running_campaign()
    cut = DriverCut()
    stopping = threading.Event()
    monkeypatch.setattr(shutdown, "requested", stopping.is_set)

    def stop_a_second_into_the_outage() -> None:
        cut.on.wait()
        time.sleep(1)
        stopping.set()

    cutting = cut.run_for(5, when=lambda: provider.stats()["in_flight"] >= 10)
    threading.Thread(target=stop_a_second_into_the_outage, daemon=True).start()
    pump = make_sender(provider.url, concurrency=20)
    with caplog.at_level(logging.INFO), connection.execute_wrapper(cut):
        assert pump.run() == "shutdown"
    cutting.join()
    given_up = [r.getMessage() for r in caplog.records if "gives up" in r.getMessage()]
    assert len(given_up) == 1, given_up
    assert "go again after their lease" in given_up[0]
    # The messages stay claimed: their lease brings them back (at-least-once).
    assert Message.objects.filter(status=MessageStatus.SENDING).exists()
    assert not [r for r in caplog.records if r.exc_info], "no traceback"


@pytest.mark.django_db
def test_a_claim_outlasts_the_longest_guaranteed_outage(provider):
    """Reclaim never takes a message from a sender that is alive and riding out an outage:
    a claim's lease is longer than ENGINE_OUTAGE_SECONDS plus a request's timeouts."""
    make_clients(5)
    running_campaign()
    pump = make_sender(provider.url)
    now = timezone.now()
    pump._tick(now)
    pump._claim(now, 5)
    assert claims.lease_seconds() >= settings.ENGINE_OUTAGE_SECONDS + 20
    outage_over = now + timedelta(seconds=settings.ENGINE_OUTAGE_SECONDS + 5)
    assert lifecycle.reclaim_expired_leases(outage_over) == 0
    assert Message.objects.filter(status=MessageStatus.SENDING).count() == 5


# --- the real thing: a cluster, and PostgreSQL refusing it for 20 s and for 120 s ------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seconds", [20, 120])
def test_a_database_outage_mid_campaign_re_sends_nothing(provider, seconds, tmp_path):
    """What a managed database's failover or restart does, mid-campaign: the campaign's
    database refuses new connections and drops the open ones. Judged by the provider."""
    from bench.harness import alive, children, multiprocess_metrics
    from messaging import services
    from tests.support.cluster import running_cluster
    from tests.support.outage import cut_postgres

    if connection.vendor != "postgresql":
        pytest.skip("an outage of a server database (SQLite is a file of this host)")
    total = 3000
    provider.configure(latency_ms=300, latency_jitter_ms=100)
    make_clients(total)
    now = timezone.now()
    campaign = services.create_campaign(
        values={
            "text": "Outage",
            "start_at": now - timedelta(seconds=1),
            "end_at": now + timedelta(minutes=30),
        }
    )
    env = {
        "ENGINE_PUMPS": "2",
        "Q_WORKERS": "3",
        "PROVIDER_CONCURRENCY": "20",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    database = connection.settings_dict["NAME"]
    with running_cluster(provider.url, **env) as cluster:
        deadline = time.monotonic() + 120
        while CampaignCounts.objects.get(pk=campaign.pk).sent < total // 3:
            assert time.monotonic() < deadline and cluster.poll() is None, cluster.log()[-3000:]
            time.sleep(0.2)
        processes = [cluster.pid, *children(cluster.pid)]
        with cut_postgres(database):
            cut_at = time.time()
            while time.time() < cut_at + seconds:
                assert cluster.poll() is None and alive(processes), cluster.log()[-3000:]
                time.sleep(1)
        back_at = time.time()
        connection.close()  # this test's own connection was dropped too
        deadline = time.monotonic() + 180
        while CampaignCounts.objects.get(pk=campaign.pk).sent < total:
            assert time.monotonic() < deadline, CampaignCounts.objects.get(pk=campaign.pk)
            assert cluster.poll() is None and alive(processes), cluster.log()[-3000:]
            time.sleep(0.5)
        log = cluster.log()
    # Every message sent, none accepted twice, every accepted one recorded sent, the
    # counters equal to the rows: judged by the provider's receipts.
    assert_every_accepted_send_recorded_once(provider, campaign, total)
    # Requests stopped while the database was away (the senders notice within a second).
    during = [r for r in provider.requests() if cut_at + 3 <= r["at"] < back_at]
    assert not during, f"{len(during)} requests during the outage"
    # A few lines, no traceback; no process died (django-q2 would have reincarnated it).
    assert "Traceback" not in log, log[log.find("Traceback") - 500 : log.find("Traceback") + 3000]
    assert "reincarnated" not in log
    outage_lines = [line for line in log.splitlines() if "database" in line and "reach" in line]
    print(f"{seconds}s outage: {len(outage_lines)} log lines about it")
    assert 0 < len(outage_lines) <= 60, "\n".join(outage_lines)
    counted = multiprocess_metrics(tmp_path)
    assert counted["herald_database_outages_total{}"] >= 1
    assert counted['herald_held_outcomes_total{result="recorded"}'] > 0
