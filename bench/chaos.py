"""Resilience runs: faults at the provider, and kill -9 of the worker cluster mid-campaign.

Both run with PROVIDER_READ_TIMEOUT=2 and PROVIDER_CONNECT_TIMEOUT=1 (set by the runner), so
a worker's lease is 1 + 2 + 20 = 23 s and the crash recovery fits in a few minutes.
"""

from __future__ import annotations

import time
from datetime import timedelta

from bench.harness import BenchEnv, Cluster, Provider, make_clients, wait_until


def ledger(campaign_id: int) -> dict:
    """What the database says happened to every message, checked against the attempts."""
    from django.db.models import Count, Q

    from messaging.models import CampaignCounts, DeliveryAttempt, Message
    from messaging.models.stats import recount

    messages = Message.objects.filter(campaign_id=campaign_id)
    by_status = dict(messages.order_by().values_list("status").annotate(n=Count("id")))
    ok = (
        DeliveryAttempt.objects.filter(message__campaign_id=campaign_id, outcome="ok")
        .order_by()
        .values("message_id")
        .annotate(n=Count("id"))
    )
    ok_counts = {row["message_id"]: row["n"] for row in ok}
    sent_ids = set(messages.filter(status="sent").values_list("id", flat=True))
    counters = CampaignCounts.objects.get(pk=campaign_id).as_dict()
    actual = recount(campaign_id).as_dict()  # rebuilt from the rows; equal if counters are exact
    return {
        "by_status": by_status,
        "lost": messages.filter(Q(status="pending") | Q(status="sending")).count(),
        "ok_attempts_twice": sum(1 for n in ok_counts.values() if n > 1),
        "sent_without_ok_attempt": len(sent_ids - set(ok_counts)),
        "ok_attempt_not_sent": len(set(ok_counts) - sent_ids),
        "counters_match_rows": counters == actual,
        "counters": counters,
    }


def receipts_summary(provider: Provider) -> dict:
    receipts = provider.receipts()["receipts"]
    return {
        "receipts_unique": len(receipts),
        "receipts_duplicated": sum(1 for r in receipts.values() if r["count"] > 1),
        "duplicate_ids": [int(k) for k, r in receipts.items() if r["count"] > 1][:20],
    }


def _campaign(length: timedelta, name: str):
    from django.utils import timezone

    from messaging import services

    now = timezone.now()
    return services.create_campaign(
        values={
            "name": name,
            "text": "Chaos",
            "start_at": now - timedelta(seconds=1),
            "end_at": now + length,
        }
    )


def faults(env: BenchEnv, *, count: int, outage_s: float, length_s: float) -> dict:
    """20% 5xx, 10% garbage, 5% hangs past the timeout, and a full outage in the middle."""
    from messaging.models import Campaign, CampaignStatus

    make_clients(count)
    provider = Provider(
        latency_ms=20, error_rate=0.2, garbage_rate=0.1, hang_rate=0.05, hang_seconds=5
    )
    cluster = Cluster(env, PROVIDER_URL=provider.url)
    try:
        cluster.wait_ready()
        provider.reset()
        campaign = _campaign(timedelta(seconds=length_s), "faults")
        end_at = campaign.end_at.timestamp()
        started = time.time()
        outage_at = started + (length_s - outage_s) / 3
        time.sleep(max(0.0, outage_at - time.time()))
        provider.configure(outage=True)
        time.sleep(outage_s)
        provider.configure(outage=False)
        finished = wait_until(
            lambda: Campaign.objects.filter(
                pk=campaign.pk, status=CampaignStatus.FINISHED
            ).exists(),
            timeout=max(0.0, end_at - time.time()) + 90,
            interval=0.5,
        )
        time.sleep(3)  # requests started before end_at are capped at it; let the log settle
        result = ledger(campaign.pk)
    finally:
        cluster.stop()
    requests = provider.requests()
    after_end = [r for r in requests if r["at"] >= end_at]
    stats = provider.stats()
    receipts = receipts_summary(provider)
    provider.stop()
    counts = result["by_status"]
    return {
        "scenario": "faults",
        "db": env.db,
        "clients": count,
        "campaign_s": length_s,
        "outage_s": outage_s,
        "finished": finished,
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "expired": counts.get("expired", 0),
        "lost": result["lost"],
        "recorded_sent_twice": result["ok_attempts_twice"],
        "sent_without_ok_attempt": result["sent_without_ok_attempt"],
        "ok_attempt_not_sent": result["ok_attempt_not_sent"],
        "counters_match_rows": result["counters_match_rows"],
        "requests": len(requests),
        "requests_after_end_at": len(after_end),
        "provider_by_outcome": stats["by_outcome"],
        # A garbage 200 may hide an accepted message: its retry is a legitimate duplicate.
        "receipts_duplicated": receipts["receipts_duplicated"],
        "cluster_log": str(cluster.log_path),
    }


def crash(env: BenchEnv, *, count: int) -> dict:
    """kill -9 the cluster's process group mid-campaign, start it again, everything is sent."""
    from messaging.models import Campaign, CampaignCounts, CampaignStatus, Message

    make_clients(count)
    provider = Provider(latency_ms=20)
    cluster = Cluster(env, name="qcluster-1", PROVIDER_URL=provider.url)
    second = None
    try:
        cluster.wait_ready()
        provider.reset()
        campaign = _campaign(timedelta(hours=1), "crash")
        wait_until(lambda: CampaignCounts.objects.get(pk=campaign.pk).sent >= count // 3, 120)
        cluster.kill9()
        killed_at = time.time()
        # Nobody writes any more: what is `sending` now was in flight at the kill.
        in_flight = Message.objects.filter(campaign_id=campaign.pk, status="sending").count()
        sent_at_kill = CampaignCounts.objects.get(pk=campaign.pk).sent
        provider_in_flight = provider.stats()["in_flight"]
        second = Cluster(env, name="qcluster-2", PROVIDER_URL=provider.url)
        second.wait_ready()
        finished = wait_until(
            lambda: Campaign.objects.filter(
                pk=campaign.pk, status=CampaignStatus.FINISHED
            ).exists(),
            timeout=300,
            interval=0.5,
        )
        recovered_s = time.time() - killed_at
        result = ledger(campaign.pk)
    finally:
        if second is not None:
            second.stop()
        cluster.stop()
    receipts = receipts_summary(provider)
    provider.stop()
    counts = result["by_status"]
    return {
        "scenario": "crash",
        "db": env.db,
        "clients": count,
        "finished": finished,
        "sent_at_kill": sent_at_kill,
        "in_flight_at_kill": in_flight,
        "provider_in_flight_at_kill": provider_in_flight,
        "seconds_kill_to_finished": round(recovered_s, 1),
        "sent": counts.get("sent", 0),
        "all_sent": counts.get("sent", 0) == count,
        "lost": result["lost"],
        "duplicate_receipts": receipts["receipts_duplicated"],
        "duplicates_within_in_flight": receipts["receipts_duplicated"] <= in_flight,
        "recorded_sent_twice": result["ok_attempts_twice"],
        "sent_without_ok_attempt": result["sent_without_ok_attempt"],
        "counters_match_rows": result["counters_match_rows"],
        "receipts_unique": receipts["receipts_unique"],
    }
