"""Resilience runs: faults at the provider, and kill -9 of the worker cluster mid-campaign.

faults: several campaigns at once (one with a short deadline) on two worker nodes under a
global rate cap, against a provider with errors, garbage, hangs and an outage. crash: kill
-9 of a cluster mid-campaign and a new one. Both check the database against what the
provider saw: msgIds accepted twice, accepted but recorded otherwise, requests after the end.

Both run with PROVIDER_READ_TIMEOUT=2 and PROVIDER_CONNECT_TIMEOUT=1 (set by the runner), so
a worker's lease is 1 + 2 + 20 = 23 s and the crash recovery fits in a few minutes.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

from bench import figures
from bench.harness import BenchEnv, Cluster, Provider, make_clients, wait_until


def ledger(campaign_id: int) -> dict:
    """What the database says happened to every message, checked against the attempts."""
    from django.db.models import Count, Q

    from messaging.models import CampaignCounts, DeliveryAttempt, Message
    from messaging.models.counters import recount

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


def provider_figures(provider: Provider, end_at: dict[int, float]) -> dict:
    """What the provider saw, checked against the database.

    `end_at` maps every msgId of the run to its campaign's end (epoch seconds).
    sent_twice: msgIds the provider accepted more than once (from its receipts; a
    malformed 200 is not a receipt at the local provider, so none is legitimate).
    accepted_recorded_otherwise: msgIds it accepted whose message is not `sent`.
    """
    from messaging.models import Message, MessageStatus

    requests = provider.requests()
    receipts = provider.receipts()
    counts = figures.receipt_figures(receipts)
    return {
        "requests": len(requests),
        "requests_after_end_at": figures.requests_at_or_after(requests, end_at),
        "max_requests_per_s": figures.max_in_any_second(r["at"] for r in requests),
        # Requests per second from the first one: where sending held or stalled.
        "requests_timeline": figures.per_second(r["at"] for r in requests),
        "receipts_unique": counts["receipts_unique"],
        "sent_twice": counts["receipts_duplicated"],
        "sent_twice_ids": [int(k) for k, r in receipts["receipts"].items() if r["count"] > 1][:20],
        # In Python: an IN list of every accepted msgId would pass SQLite's variable limit.
        "accepted_recorded_otherwise": figures.accepted_recorded_otherwise(
            receipts,
            set(Message.objects.filter(status=MessageStatus.SENT).values_list("id", flat=True)),
        ),
        "provider_by_outcome": provider.stats()["by_outcome"],
    }


def end_at_by_message(campaigns) -> dict[int, float]:
    from messaging.models import Message

    ends = {c.pk: c.end_at.timestamp() for c in campaigns}
    return {
        msg_id: ends[campaign_id]
        for msg_id, campaign_id in Message.objects.filter(campaign_id__in=ends).values_list(
            "id", "campaign_id"
        )
    }


# Lines of a worker log that mean the database refused something (handled or not).
DATABASE_ERROR = re.compile(
    r"deadlock detected|database is locked|OperationalError|IntegrityError|InterfaceError"
    r"|DatabaseError|could not serialize"
)


def log_problems(*clusters: Cluster) -> dict:
    errors = tracebacks = 0
    for cluster in clusters:
        text = cluster.log_path.read_text(errors="replace")
        errors += sum(1 for line in text.splitlines() if DATABASE_ERROR.search(line))
        tracebacks += text.count("Traceback (most recent call last)")
    return {"database_errors": errors, "tracebacks": tracebacks}


def _campaign(length: timedelta, name: str, **filters):
    from django.utils import timezone

    from messaging import services

    now = timezone.now()
    return services.create_campaign(
        values={
            "name": name,
            "text": "Chaos",
            "start_at": now - timedelta(seconds=1),
            "end_at": now + length,
            **filters,
        }
    )


TAGS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")


def faults(
    env: BenchEnv,
    *,
    count: int,
    outage_s: float,
    length_s: float,
    campaigns: int = 3,
    short_s: float | None = None,
    clusters: int = 2,
    rate_limit: float | None = None,
) -> dict:
    """Several campaigns at once, one with a short deadline, on two worker nodes under a
    global rate cap, while the provider answers 20% 5xx, 10% garbage, 5% hangs (past the
    2 s read timeout) and is down for `outage_s` a third of the way in."""
    from messaging.models import Campaign, CampaignStatus

    if not 1 <= campaigns <= len(TAGS):
        raise ValueError(f"campaigns must be in 1..{len(TAGS)}")
    short_s = short_s or length_s / 4
    # Slow enough that the outage and the short deadline fall in the middle of sending.
    rate_limit = rate_limit or max(10, round(count / (0.4 * length_s)))
    tags = TAGS[:campaigns]
    make_clients(count, tags=tags)
    provider = Provider(
        latency_ms=20, error_rate=0.2, garbage_rate=0.1, hang_rate=0.05, hang_seconds=5
    )
    cap = str(rate_limit)
    nodes = [
        Cluster(env, name=f"node-{i + 1}", PROVIDER_URL=provider.url, PROVIDER_RATE_LIMIT=cap)
        for i in range(clusters)
    ]
    try:
        for node in nodes:
            node.wait_ready()
        monitors = [node.monitor() for node in nodes]
        provider.reset()
        started = time.time()
        # The first campaign has the short deadline: it ends with messages still waiting.
        runs = [
            _campaign(
                timedelta(seconds=short_s if i == 0 else length_s), f"faults {tag}", tags=[tag]
            )
            for i, tag in enumerate(tags)
        ]
        end_at = max(c.end_at.timestamp() for c in runs)
        outage_at = started + (length_s - outage_s) / 3
        time.sleep(max(0.0, outage_at - time.time()))
        provider.configure(outage=True)
        time.sleep(outage_s)
        provider.configure(outage=False)
        ids = [c.pk for c in runs]
        finished = wait_until(
            lambda: (
                not Campaign.objects.filter(pk__in=ids)
                .exclude(status=CampaignStatus.FINISHED)
                .exists()
            ),
            timeout=max(0.0, end_at - time.time()) + 90,
            interval=0.5,
        )
        time.sleep(3)  # requests started before end_at are capped at it; let the log settle
        ledgers = {c.pk: ledger(c.pk) for c in runs}
        peak_rss = max(monitor.stop()["peak_rss_mb"] for monitor in monitors)
    finally:
        for node in nodes:
            node.stop()
    seen = provider_figures(provider, end_at_by_message(runs))
    provider.stop()

    def total(key: str) -> int:
        return sum(entry[key] for entry in ledgers.values())

    def status_total(status: str) -> int:
        return sum(entry["by_status"].get(status, 0) for entry in ledgers.values())

    short = ledgers[runs[0].pk]["by_status"]
    return {
        "scenario": "faults",
        "db": env.db,
        "clients": count,
        "campaigns": len(runs),
        "worker_nodes": clusters,
        "rate_limit": rate_limit,
        "campaign_s": length_s,
        "short_campaign_s": short_s,
        "outage_s": outage_s,
        "finished": finished,
        "sent": status_total("sent"),
        "failed": status_total("failed"),
        "expired": status_total("expired"),
        "lost": total("lost"),
        "short_campaign_sent": short.get("sent", 0),
        "short_campaign_expired": short.get("expired", 0),
        "recorded_sent_twice": total("ok_attempts_twice"),
        "sent_without_ok_attempt": total("sent_without_ok_attempt"),
        "ok_attempt_not_sent": total("ok_attempt_not_sent"),
        "counters_match_rows": all(entry["counters_match_rows"] for entry in ledgers.values()),
        "worker_peak_rss_mb": round(peak_rss, 1),
        "by_campaign": {pk: entry["by_status"] for pk, entry in ledgers.items()},
        **seen,
        **log_problems(*nodes),
        "cluster_logs": [str(node.log_path) for node in nodes],
    }


def crash(env: BenchEnv, *, count: int, latency_ms: float = 20) -> dict:
    """kill -9 the cluster's process group mid-campaign, start it again, everything is sent."""
    from messaging.models import Campaign, CampaignCounts, CampaignStatus, Message

    make_clients(count)
    provider = Provider(latency_ms=latency_ms)
    cluster = Cluster(env, name="qcluster-1", PROVIDER_URL=provider.url)
    second = None
    try:
        cluster.wait_ready()
        monitor = cluster.monitor()
        provider.reset()
        campaign = _campaign(timedelta(hours=1), "crash")
        wait_until(lambda: CampaignCounts.objects.get(pk=campaign.pk).sent >= count // 3, 120)
        cluster.kill9()
        killed_at = time.time()
        peak_rss = monitor.stop()["peak_rss_mb"]  # sampled up to the kill
        # Nobody writes any more: what is `sending` now was in flight at the kill.
        in_flight = Message.objects.filter(campaign_id=campaign.pk, status="sending").count()
        sent_at_kill = CampaignCounts.objects.get(pk=campaign.pk).sent
        provider_in_flight = provider.stats()["in_flight"]
        second = Cluster(env, name="qcluster-2", PROVIDER_URL=provider.url)
        second.wait_ready()
        second_monitor = second.monitor()
        finished = wait_until(
            lambda: Campaign.objects.filter(
                pk=campaign.pk, status=CampaignStatus.FINISHED
            ).exists(),
            timeout=300,
            interval=0.5,
        )
        recovered_s = time.time() - killed_at
        result = ledger(campaign.pk)
        peak_rss = max(peak_rss, second_monitor.stop()["peak_rss_mb"])
    finally:
        if second is not None:
            second.stop()
        cluster.stop()
    seen = provider_figures(provider, end_at_by_message([campaign]))
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
        "worker_peak_rss_mb": round(peak_rss, 1),
        "lost": result["lost"],
        # At-least-once: only what was in flight at the kill may reach the provider twice.
        "sent_twice": seen["sent_twice"],
        "sent_twice_within_in_flight": seen["sent_twice"] <= in_flight,
        "accepted_recorded_otherwise": seen["accepted_recorded_otherwise"],
        "recorded_sent_twice": result["ok_attempts_twice"],
        "sent_without_ok_attempt": result["sent_without_ok_attempt"],
        "counters_match_rows": result["counters_match_rows"],
        "receipts_unique": seen["receipts_unique"],
        "requests_after_end_at": seen["requests_after_end_at"],
    }
