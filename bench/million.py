"""Scenario `million`: a million messages through the API, and the pages while they send.

PostgreSQL (on SQLite the row says "not applicable"). N clients (full: 1,000,000) are
imported through `POST /api/clients/import/` in files of `chunk_rows`, one campaign to all
of them is created through `POST /api/campaigns/`, and a real `qcluster` sends it to the
local provider at `latency_ms` (200 ms, no jitter). While it sends, a thread reads the
campaign's counters every `sample_s` (the rate over each tenth of the messages, to show
whether it decays) and another times the dashboard, the campaign's page and the clients
list in turn, served by gunicorn (2 workers x 2 threads) as a signed-in Manager sees them.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from datetime import timedelta

import requests

from bench import figures
from bench.harness import (
    BenchEnv,
    Cluster,
    Provider,
    TreeMonitor,
    close_db,
    machine_busy_seconds,
    postmaster_pid,
)
from bench.reads import percentile
from bench.web import WebServer, manager_credentials, manager_sessions

PAGES = {
    "dashboard": "/",
    "campaign page": "/campaigns/{id}/",
    "clients list": "/clients/",
}


def import_clients(api: requests.Session, url: str, count: int, chunk_rows: int) -> float:
    """Import `count` clients through the API; returns the seconds it took."""
    started = time.monotonic()
    for first in range(0, count, chunk_rows):
        rows = "".join(
            f"79{i:09d},{'vip' if i % 5 == 0 else ''}\n"
            for i in range(first, min(count, first + chunk_rows))
        )
        response = api.post(
            url + "/api/clients/import/",
            files={"file": ("clients.csv", "phone,tag\n" + rows, "text/csv")},
            timeout=600,
        )
        if response.status_code != 200:
            raise RuntimeError(f"import: {response.status_code} {response.text[:500]}")
    return time.monotonic() - started


def tenths(timeline: list[tuple[float, int]], total: int) -> list[float]:
    """msg/s over each tenth of the messages: the time the counter took from k/10 to
    (k+1)/10 of `total`, from (seconds, sent) samples (interpolated between them)."""

    def moment(target: float) -> float | None:
        for (t0, n0), (t1, n1) in itertools.pairwise(timeline):
            if n0 <= target <= n1 and n1 > n0:
                return t0 + (t1 - t0) * (target - n0) / (n1 - n0)
        return None

    marks = [moment(total * k / 10) for k in range(11)]
    marks[0] = next((t for t, n in timeline if n > 0), None) if marks[0] is None else marks[0]
    rates = []
    for k in range(10):
        if marks[k] is None or marks[k + 1] is None or marks[k + 1] <= marks[k]:
            rates.append(0.0)
        else:
            rates.append(round(total / 10 / (marks[k + 1] - marks[k]), 1))
    return rates


def million(
    env: BenchEnv,
    *,
    count: int,
    latency_ms: float = 200,
    chunk_rows: int = 250_000,
    sample_s: float = 1.0,
    page_pause_s: float = 0.5,
) -> dict:
    if env.db != "postgres":
        return {"scenario": "million", "db": env.db, "not_applicable": True}
    from django.utils import timezone

    from messaging.models import CampaignCounts, Message

    token, session_id = manager_credentials()
    close_db()
    server = WebServer(env, workers=2, threads=2)
    provider = Provider(latency_ms=latency_ms)
    cluster = None
    try:
        api, browser = manager_sessions(token, session_id)
        import_s = import_clients(api, server.url, count, chunk_rows)

        cluster = Cluster(env, name="qcluster-million", PROVIDER_URL=provider.url)
        cluster.wait_ready()
        provider.reset()
        monitor = cluster.monitor()
        # Where the machine's cores go while it sends: the engine, the database server,
        # the provider and the pages' web server share them.
        others = {"provider": provider.proc.pid, "web server": server.proc.pid}
        postmaster = postmaster_pid()
        close_db()
        if postmaster is not None:
            others["postgres"] = postmaster
        other_monitors = {name: TreeMonitor(pid).start() for name, pid in others.items()}
        busy_before = machine_busy_seconds()
        now = timezone.now()
        created = time.time()
        response = api.post(
            server.url + "/api/campaigns/",
            json={
                "name": "A million",
                "text": "Benchmark message",
                "start_at": (now - timedelta(seconds=1)).isoformat(),
                "end_at": (now + timedelta(hours=3)).isoformat(),
            },
            timeout=600,
        )
        if response.status_code != 201:
            raise RuntimeError(f"campaign: {response.status_code} {response.text[:500]}")
        campaign_id = response.json()["id"]
        create_s = time.time() - created

        done = threading.Event()
        timeline: list[tuple[float, int]] = []
        pages: dict[str, list[float]] = {name: [] for name in PAGES}
        page_errors = [0]

        def count_sent() -> None:
            while not done.is_set():
                counts = CampaignCounts.objects.filter(pk=campaign_id).first()
                timeline.append((time.time() - created, counts.sent if counts else 0))
                close_db()
                done.wait(sample_s)

        def time_pages() -> None:
            while not done.is_set():
                for name, path in PAGES.items():
                    started = time.perf_counter()
                    got = browser.get(server.url + path.format(id=campaign_id), timeout=60)
                    pages[name].append((time.perf_counter() - started) * 1000)
                    page_errors[0] += got.status_code != 200
                    if done.wait(page_pause_s):
                        return

        threads = [threading.Thread(target=f, daemon=True) for f in (count_sent, time_pages)]
        for thread in threads:
            thread.start()
        from bench.throughput import wait_finished

        finished = wait_finished([campaign_id], cluster, timeout=max(600, count / 200))
        done.set()
        for thread in threads:
            thread.join()
        tree = monitor.stop()
        busy_s = machine_busy_seconds() - busy_before
        other_cpu = {name: m.stop()["cpu_s"] for name, m in other_monitors.items()}
        counts = CampaignCounts.objects.get(pk=campaign_id).as_dict()
        timeline.append((finished - created if finished else time.time() - created, counts["sent"]))
        receipts = provider.receipts()
    finally:
        if cluster is not None:
            cluster.stop()
        server.stop()
        provider.stop()
    seconds = (finished or time.time()) - created
    per_tenth = tenths(timeline, count)
    sent_ids = set(
        Message.objects.filter(campaign_id=campaign_id, status="sent").values_list("id", flat=True)
    )
    return {
        "scenario": "million",
        "db": env.db,
        "clients": count,
        "latency_ms": latency_ms,
        "finished": finished is not None,
        "import_s": round(import_s, 1),
        "create_s": round(create_s, 2),
        "minutes": round(seconds / 60, 2),
        "rate": round(counts["sent"] / seconds, 1),
        "rate_per_tenth": per_tenth,
        # The slowest tenth against the first: does the rate decay as the table churns?
        "slowest_tenth_vs_first": round(min(per_tenth) / per_tenth[0], 3) if per_tenth[0] else None,
        "counts": counts,
        "pages": {
            name: {
                "samples": len(ms),
                "p50_ms": round(statistics.median(ms), 1) if ms else None,
                "p95_ms": round(percentile(ms, 0.95), 1) if ms else None,
                "max_ms": round(max(ms), 1) if ms else None,
            }
            for name, ms in pages.items()
        },
        "pages_p50_p95": "; ".join(
            f"{name} {statistics.median(ms):.0f} / {percentile(ms, 0.95):.0f}"
            for name, ms in pages.items()
            if ms
        ),
        "worst_page_p95_ms": max(
            (round(percentile(ms, 0.95), 1) for ms in pages.values() if ms), default=None
        ),
        "page_errors": page_errors[0],
        **figures.receipt_figures(receipts),
        "accepted_recorded_otherwise": figures.accepted_recorded_otherwise(receipts, sent_ids),
        "worker_peak_rss_mb": round(tree["peak_rss_mb"], 1),
        "cluster_cpu_ms_per_msg": round(1000 * tree["cpu_s"] / max(1, counts["sent"]), 3),
        # The rest of the machine's busy time: this process (the samplers), the kernel's
        # own threads, anything else running.
        "cpu_ms_per_msg": {
            name: round(1000 * cpu_s / max(1, counts["sent"]), 3)
            for name, cpu_s in {
                "cluster": tree["cpu_s"],
                **other_cpu,
                "machine busy": busy_s,
            }.items()
        },
        "machine_busy_cores": round(busy_s / max(seconds, 1e-9), 2),
    }
