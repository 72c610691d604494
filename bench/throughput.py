"""Scenario 1 (throughput, worker memory) and its two baselines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench import figures
from bench.harness import (
    ROOT,
    TOKEN,
    BenchEnv,
    Cluster,
    Provider,
    TreeMonitor,
    machine_busy_seconds,
    make_clients,
)


def run_baseline(
    env: BenchEnv,
    provider: Provider,
    *,
    count: int,
    processes: int = 1,
    concurrency: int | None = None,
) -> dict:
    """`processes` children send count/processes messages each: with `concurrency`
    requests in flight on the engine's transport (the bare loop), or one at a time."""
    from messaging.engine.inflight import HANG_HEADROOM

    procs = []
    share = count // processes
    for i in range(processes):
        argv = [sys.executable, "-m", "bench.baseline", "--url", provider.url, "--token", TOKEN]
        argv += ["--count", str(share), "--first-id", str(10**12 + i * 10**9)]
        if concurrency:
            # The sender's own shape: `concurrency` in flight, a pool with hang headroom.
            argv += ["--concurrency", str(concurrency)]
            argv += ["--max-connections", str(concurrency * HANG_HEADROOM)]
        else:
            argv += ["--one-at-a-time"]
        procs.append(
            subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env.env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        line = proc.stdout.readline()
        if line.strip() != "READY":
            raise RuntimeError(f"baseline child did not start: {line!r}")
    busy_before = machine_busy_seconds()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        results.append(json.loads(out.strip().splitlines()[-1]))
    busy_s = machine_busy_seconds() - busy_before
    started = min(r["started"] for r in results)
    ended = max(r["ended"] for r in results)
    sent = sum(r["sent"] for r in results)
    cpu = sum(r["cpu"] for r in results)
    return {
        "sent": sent,
        "seconds": ended - started,
        "rate": sent / (ended - started),
        "cpu_ms_per_msg": 1000 * cpu / max(1, sent),
        # Near the machine's core count, the loop is bound by CPU, not by the provider.
        "machine_busy_cores": busy_s / max(1e-9, ended - started),
    }


def bare_loop(env: BenchEnv, provider: Provider, count: int) -> dict:
    """The engine's transport with the engine's concurrency (ENGINE_PUMPS processes x
    PROVIDER_CONCURRENCY in flight), no database: the ceiling the engine is held to."""
    from django.conf import settings

    provider.reset()
    result = run_baseline(
        env,
        provider,
        count=count,
        processes=settings.ENGINE_PUMPS,
        concurrency=settings.PROVIDER_CONCURRENCY,
    )
    receipts = figures.receipt_figures(provider.receipts())
    result["receipts_duplicated"] = receipts["receipts_duplicated"]
    return result


def wait_finished(campaign_ids: list[int], cluster: Cluster, timeout: float) -> float | None:
    """Epoch time when every campaign was `finished`, or None after `timeout`."""
    from messaging.models import Campaign, CampaignStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not (
            Campaign.objects.filter(pk__in=campaign_ids)
            .exclude(status=CampaignStatus.FINISHED)
            .exists()
        ):
            return time.time()
        if cluster.proc.poll() is not None:
            raise RuntimeError(f"qcluster died: {cluster.tail()}")
        time.sleep(0.05)
    return None


def engine_run(
    env: BenchEnv,
    provider: Provider,
    count: int,
    *,
    timeout: float,
    name: str = "throughput",
    **cluster_env: str,
) -> dict:
    """A campaign to every client, from creation until every status is recorded.

    Besides the rate: the whole cluster's CPU per message and its peak RSS (sampled
    from /proc over the run), receipts per msgId and requests at or after end_at
    (from the provider), and the first pass (see figures.first_pass).
    """
    from django.utils import timezone

    from messaging import services
    from messaging.models import CampaignCounts, Message

    cluster = Cluster(env, name=f"qcluster-{name}", PROVIDER_URL=provider.url, **cluster_env)
    try:
        cluster.wait_ready()
        provider.reset()
        monitor = cluster.monitor()
        provider_monitor = TreeMonitor(provider.proc.pid).start()
        now = timezone.now()
        busy_before = machine_busy_seconds()
        created = time.time()
        campaign = services.create_campaign(
            values={
                "name": name,
                "text": "Benchmark message",
                "start_at": now - timedelta(seconds=1),
                "end_at": now + timedelta(hours=2),
            }
        )
        created_s = time.time() - created
        profilers = start_profilers(env, cluster)
        finished = wait_finished([campaign.pk], cluster, timeout)
        busy_s = machine_busy_seconds() - busy_before
        tree = monitor.stop()
        provider_cpu_s = provider_monitor.stop()["cpu_s"]
        counts = CampaignCounts.objects.get(pk=campaign.pk).as_dict()
        for profiler in profilers:
            profiler.wait(timeout=60)
    finally:
        cluster.stop()
    requests = provider.requests()
    receipts = provider.receipts()
    ids = set(Message.objects.filter(campaign_id=campaign.pk).values_list("id", flat=True))
    end_at = campaign.end_at.timestamp()
    arrivals = [r["at"] for r in requests]
    seconds = (finished or time.time()) - created
    first = figures.first_pass(requests)
    sent_ids = set(
        Message.objects.filter(campaign_id=campaign.pk, status="sent").values_list("id", flat=True)
    )
    return {
        "finished": finished is not None,
        "seconds": round(seconds, 2),
        "rate": round(counts["sent"] / seconds, 1),
        "send_phase_rate": round(
            len(arrivals) / max(1e-9, max(arrivals) - min(arrivals)) if arrivals else 0, 1
        ),
        "first_pass_rate": round(first.rate, 1) if first else None,
        "longest_gap_s": round(first.longest_gap_s, 3) if first else None,
        "first_request_s": round(min(arrivals) - created, 2) if arrivals else None,
        # The part of that spent in the request that created it (targets selected).
        "create_s": round(created_s, 2),
        "counts": counts,
        "requests": len(requests),
        **figures.receipt_figures(receipts),
        # Receipts are of this campaign only (the provider was reset before it).
        "accepted_recorded_otherwise": figures.accepted_recorded_otherwise(receipts, sent_ids),
        "requests_after_end_at": figures.requests_at_or_after(requests, dict.fromkeys(ids, end_at)),
        "provider_by_outcome": provider.stats()["by_outcome"],
        "worker_peak_rss_mb": round(tree["peak_rss_mb"], 1),
        # CPU of the whole cluster per message: steadier than rates on a shared machine.
        "cluster_cpu_ms_per_msg": round(1000 * tree["cpu_s"] / max(1, counts["sent"]), 3),
        # The provider's CPU over the run as a share of one core (it has one thread): near
        # 1.0 it, not the engine, would be the bottleneck.
        "provider_cpu_share": round(provider_cpu_s / max(1e-9, seconds), 2),
        "provider_cpu_ms_per_msg": round(1000 * provider_cpu_s / max(1, counts["sent"]), 3),
        # Every process on the machine (the cluster, the provider, the database server,
        # this process polling): near the core count, the run is bound by CPU.
        "machine_busy_cores": round(busy_s / max(1e-9, seconds), 2),
        "campaign_id": campaign.pk,
    }


def start_profilers(env: BenchEnv, cluster: Cluster) -> list[subprocess.Popen]:
    """With BENCH_PROFILE=<py-spy binary>, sample every cluster process (collapsed stacks)."""
    py_spy = os.environ.get("BENCH_PROFILE")
    if not py_spy:
        return []
    seconds = os.environ.get("BENCH_PROFILE_SECONDS", "8")
    out = Path(os.environ.get("BENCH_PROFILE_DIR", env.workdir))
    out.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                *(
                    py_spy,
                    "record",
                    *os.environ.get("BENCH_PROFILE_FLAGS", "--gil").split(),
                    "-p",
                    str(pid),
                ),
                *("-d", seconds, "-r", "200"),
                *("--format", "raw", "-o", str(out / f"{env.db}-{pid}.txt"), "--nonblocking"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in cluster.pids()
    ]


def throughput(
    env: BenchEnv,
    *,
    count: int,
    latency_ms: float = 20,
    baselines: bool = True,
    quiet_logs_run: bool = True,
):
    """Scenario 1: returns the result dict (rates in messages per second)."""
    from django.conf import settings

    make_clients(count)
    provider = Provider(latency_ms=latency_ms)
    try:
        engine = engine_run(env, provider, count, timeout=max(120, count / 100))
        result = {
            "scenario": "throughput",
            "db": env.db,
            "clients": count,
            "latency_ms": latency_ms,
            "pumps": settings.ENGINE_PUMPS,
            "concurrency": settings.PROVIDER_CONCURRENCY,
            **engine,
        }
        if baselines:
            bare = bare_loop(env, provider, count)
            provider.reset()
            single = run_baseline(env, provider, count=min(count, 300))
            result["bare_rate"] = round(bare["rate"], 1)
            result["single_rate"] = round(single["rate"], 1)
            result["vs_bare"] = round(engine["rate"] / bare["rate"], 3)
            result["vs_single"] = round(engine["rate"] / single["rate"], 1)
            result["bare_cpu_ms_per_msg"] = round(bare["cpu_ms_per_msg"], 3)
            result["bare_machine_busy_cores"] = round(bare["machine_busy_cores"], 2)
        if quiet_logs_run:
            # The same campaign again (new messages) with the per-request INFO lines off: what
            # the two log lines per provider request cost.
            quiet = engine_run(
                env,
                provider,
                count,
                timeout=max(120, count / 100),
                name="throughput-quiet",
                LOG_LEVEL="WARNING",
            )
            # Figures that must hold in every run hold over both campaigns.
            for key in ("receipts_duplicated", "requests_after_end_at"):
                result[key] += quiet[key]
            result["worker_peak_rss_mb"] = max(
                result["worker_peak_rss_mb"], quiet["worker_peak_rss_mb"]
            )
            result["rate_log_warning"] = quiet["rate"]
            result["cluster_cpu_ms_per_msg_log_warning"] = quiet["cluster_cpu_ms_per_msg"]
            if baselines:
                result["vs_bare_log_warning"] = round(quiet["rate"] / bare["rate"], 3)
        return result
    finally:
        provider.stop()
