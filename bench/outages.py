"""Two ordinary events of production life, mid-campaign: the database goes away for a
while, and a service manager stops the workers with SIGTERM to their process group.

db_outage (PostgreSQL): 10,000 messages at 100 ms; when a fifth are sent, the campaign's
database refuses new connections and drops the open ones (ALLOW_CONNECTIONS false and
pg_terminate_backend, as a managed database's failover or restart does) for 20 s, and in
a second campaign for 120 s. On SQLite it is not applicable: the database is a file on
the worker's own host, with no failover or restart to ride out (a lock held past
SQLITE_BUSY_TIMEOUT is retried as a transient error while the leases hold).

sigterm: 3,000 messages at 300 ms; a third of the way in, SIGTERM to every process of
the cluster (systemd's default KillMode=control-group), then a new cluster.

Both check the database against what the provider saw: msgIds accepted twice, accepted
but recorded otherwise, messages lost, counters against the rows; and the time to exit.
"""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta

from bench.chaos import _campaign, ledger, log_problems, provider_figures
from bench.harness import (
    PG_DB,
    BenchEnv,
    Cluster,
    Provider,
    alive,
    close_db,
    make_clients,
    multiprocess_metrics,
    refusing_connections,
    wait_until,
)

# SQLite is a file on the worker's own host: no failover or restart to ride out.
NOT_ON_SQLITE = "not applicable (SQLite: no database server)"


def db_outage(
    env: BenchEnv, *, count: int, outages_s: list[float], latency_ms: float = 100
) -> dict:
    """One campaign per outage, each cut off from its database when a fifth is sent."""
    from messaging.models import Campaign, CampaignCounts, CampaignStatus, Message

    if env.db != "postgres":
        return {"scenario": "db_outage", "db": env.db, "not_applicable": NOT_ON_SQLITE}
    metrics_dir = env.workdir / "prometheus"
    metrics_dir.mkdir()
    provider = Provider(latency_ms=latency_ms)
    cluster = Cluster(
        env, name="qcluster", PROVIDER_URL=provider.url, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)
    )
    result: dict = {"scenario": "db_outage", "db": env.db, "clients": count, "outages_s": []}
    try:
        cluster.wait_ready()
        for n, seconds in enumerate(outages_s):
            tag = f"outage{n}"
            make_clients(count, prefix=f"79{n}", tags=(tag,))
            provider.reset()
            campaign = _campaign(timedelta(hours=1), f"outage {seconds:g}s", tags=[tag])
            a_fifth_sent = CampaignCounts.objects.filter(pk=campaign.pk, sent__gte=count // 5)
            wait_until(a_fifth_sent.exists, 120)
            in_flight = Message.objects.filter(campaign_id=campaign.pk, status="sending").count()
            pids = [cluster.proc.pid, *cluster.pids()]
            all_alive = True
            with refusing_connections(PG_DB):
                cut_at = time.time()
                while time.time() < cut_at + seconds:
                    all_alive = all_alive and cluster.proc.poll() is None and alive(pids)
                    time.sleep(0.5)
            back_at = time.time()
            close_db()  # this process's connection was dropped too
            done = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.FINISHED)
            finished = wait_until(done.exists, timeout=300, interval=0.2)
            all_alive = all_alive and cluster.proc.poll() is None and alive(pids)
            seen = provider_figures(provider, {})
            during = sum(1 for r in provider.requests() if cut_at + 3 <= r["at"] < back_at)
            books = ledger(campaign.pk)
            key = f"_{seconds:g}s"
            result["outages_s"].append(seconds)
            result.update(
                {
                    f"finished{key}": finished,
                    f"in_flight_at_cut{key}": in_flight,
                    f"seconds_back_to_finished{key}": round(time.time() - back_at, 1),
                    f"sent{key}": books["by_status"].get("sent", 0),
                    f"lost{key}": books["lost"],
                    f"sent_twice{key}": seen["sent_twice"],
                    f"accepted_recorded_otherwise{key}": seen["accepted_recorded_otherwise"],
                    f"recorded_sent_twice{key}": books["ok_attempts_twice"],
                    f"counters_match_rows{key}": books["counters_match_rows"],
                    f"requests_during_outage{key}": during,
                    f"processes_alive{key}": all_alive,
                }
            )
        counted = multiprocess_metrics(metrics_dir)
        result["held_results_recorded"] = int(
            counted.get('herald_held_outcomes_total{result="recorded"}', 0)
        )
    finally:
        cluster.stop()
        provider.stop()
    text = cluster.log_path.read_text(errors="replace")
    result["outage_log_lines"] = sum(
        1 for line in text.splitlines() if "database" in line and "reach" in line
    )
    result["reincarnated"] = text.count("reincarnated")
    problems = log_problems(cluster)
    result["tracebacks"] = problems["tracebacks"]
    result["lost"] = sum(result[f"lost_{s:g}s"] for s in result["outages_s"])
    result["cluster_log"] = str(cluster.log_path)
    return result


def sigterm(env: BenchEnv, *, count: int, latency_ms: float = 300) -> dict:
    """SIGTERM to the cluster's process group a third of the way in; a new cluster after."""
    from messaging.models import Campaign, CampaignCounts, CampaignStatus, Message

    make_clients(count)
    provider = Provider(latency_ms=latency_ms, hang_rate=0.02, hang_seconds=60)
    cluster = Cluster(env, name="qcluster-1", PROVIDER_URL=provider.url)
    second = None
    try:
        cluster.wait_ready()
        provider.reset()
        campaign = _campaign(timedelta(hours=1), "sigterm")
        wait_until(lambda: CampaignCounts.objects.get(pk=campaign.pk).sent >= count // 3, 120)
        in_flight = Message.objects.filter(campaign_id=campaign.pk, status="sending").count()
        signalled = time.time()
        cluster.sigterm_group()
        try:
            cluster.proc.wait(timeout=60)
            exit_s = round(time.time() - signalled, 1)
        except subprocess.TimeoutExpired:
            exit_s = None  # still running a minute later: killed below
        cluster.kill9()
        left_sending = Message.objects.filter(campaign_id=campaign.pk, status="sending").count()
        sent_at_stop = CampaignCounts.objects.get(pk=campaign.pk).sent
        accepted_at_stop = provider.receipts()["unique"]
        provider.configure(hang_rate=0.0, latency_ms=20)
        second = Cluster(env, name="qcluster-2", PROVIDER_URL=provider.url)
        second.wait_ready()
        done = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.FINISHED)
        finished = wait_until(done.exists, timeout=300, interval=0.5)
        books = ledger(campaign.pk)
    finally:
        if second is not None:
            second.stop()
        cluster.stop()
    seen = provider_figures(provider, {})
    provider.stop()
    return {
        "scenario": "sigterm",
        "db": env.db,
        "clients": count,
        "in_flight_at_signal": in_flight,
        "exit_s": exit_s,
        "exited_within_30_s": exit_s is not None and exit_s <= 30,
        "left_sending": left_sending,
        "sent_at_stop": sent_at_stop,
        "accepted_at_stop": accepted_at_stop,
        "finished": finished,
        "all_sent": books["by_status"].get("sent", 0) == count,
        "lost": books["lost"],
        "sent_twice": seen["sent_twice"],
        "accepted_recorded_otherwise": seen["accepted_recorded_otherwise"],
        "recorded_sent_twice": books["ok_attempts_twice"],
        "counters_match_rows": books["counters_match_rows"],
        **log_problems(cluster),
    }
