"""Scenario 1 (throughput, worker memory) and its two baselines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.harness import ROOT, TOKEN, BenchEnv, Cluster, Provider, cpu_seconds, make_clients


def run_baseline(
    env: BenchEnv, provider: Provider, *, count: int, processes: int, threads: int
) -> dict:
    """`processes` children of `threads` threads each send count/processes messages."""
    procs = []
    share = count // processes
    for i in range(processes):
        argv = [sys.executable, "-m", "bench.baseline", "--url", provider.url, "--token", TOKEN]
        argv += ["--count", str(share), "--threads", str(threads)]
        argv += ["--first-id", str(10**12 + i * 10**9)]
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
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        results.append(json.loads(out.strip().splitlines()[-1]))
    started = min(r["started"] for r in results)
    ended = max(r["ended"] for r in results)
    sent = sum(r["sent"] for r in results)
    cpu = sum(r["cpu"] for r in results)
    return {
        "sent": sent,
        "seconds": ended - started,
        "rate": sent / (ended - started),
        "cpu_ms_per_msg": 1000 * cpu / max(1, sent),
    }


def engine_run(
    env: BenchEnv, provider: Provider, count: int, *, timeout: float, **cluster_env: str
) -> dict:
    """A campaign to every client, from creation until every status is recorded."""
    from django.utils import timezone

    from messaging import services
    from messaging.models import Campaign, CampaignCounts, CampaignStatus

    cluster = Cluster(env, PROVIDER_URL=provider.url, **cluster_env)
    try:
        cluster.wait_ready()
        provider.reset()
        pids = cluster.pids()
        cpu_before = cpu_seconds(pids)
        now = timezone.now()
        created = time.time()
        campaign = services.create_campaign(
            values={
                "name": "throughput",
                "text": "Benchmark message",
                "start_at": now - timedelta(seconds=1),
                "end_at": now + timedelta(hours=2),
            }
        )
        profilers = start_profilers(env, cluster)
        deadline = time.monotonic() + timeout
        finished = None
        while time.monotonic() < deadline:
            status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)[0]
            if status == CampaignStatus.FINISHED:
                finished = time.time()
                break
            if cluster.proc.poll() is not None:
                raise RuntimeError(f"qcluster died: {cluster.tail()}")
            time.sleep(0.05)
        counts = CampaignCounts.objects.get(pk=campaign.pk).as_dict()
        cpu_used = cpu_seconds(pids) - cpu_before
        rss = cluster.peak_worker_rss_mb()
        for profiler in profilers:
            profiler.wait(timeout=60)
    finally:
        cluster.stop()
    requests = provider.requests()
    receipts = provider.receipts()
    per_msg = [r["count"] for r in receipts["receipts"].values()]
    arrivals = [r["at"] for r in requests]
    seconds = (finished or time.time()) - created
    return {
        "finished": finished is not None,
        "seconds": round(seconds, 2),
        "rate": round(counts["sent"] / seconds, 1),
        "send_phase_rate": round(
            len(arrivals) / max(1e-9, max(arrivals) - min(arrivals)) if arrivals else 0, 1
        ),
        "first_request_s": round(min(arrivals) - created, 2) if arrivals else None,
        "counts": counts,
        "requests": len(requests),
        "receipts_unique": receipts["unique"],
        "receipts_total": receipts["total"],
        "max_receipts_per_msg": max(per_msg, default=0),
        "worker_peak_rss_mb": round(rss, 1),
        # CPU of the whole cluster per message: steadier than rates on a shared machine.
        "cluster_cpu_ms_per_msg": round(1000 * cpu_used / max(1, counts["sent"]), 3),
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
            provider.reset()
            bare = run_baseline(
                env,
                provider,
                count=count,
                processes=settings.ENGINE_PUMPS,
                threads=settings.PROVIDER_CONCURRENCY,
            )
            provider.reset()
            single = run_baseline(env, provider, count=min(count, 300), processes=1, threads=1)
            result["bare_rate"] = round(bare["rate"], 1)
            result["single_rate"] = round(single["rate"], 1)
            result["vs_bare"] = round(engine["rate"] / bare["rate"], 3)
            result["vs_single"] = round(engine["rate"] / single["rate"], 1)
            result["bare_cpu_ms_per_msg"] = round(bare["cpu_ms_per_msg"], 3)
        if quiet_logs_run:
            # The same campaign again (new messages) with the per-request INFO lines off: what
            # the two log lines per provider request cost.
            quiet = engine_run(
                env, provider, count, timeout=max(120, count / 100), LOG_LEVEL="WARNING"
            )
            result["rate_log_warning"] = quiet["rate"]
            result["cluster_cpu_ms_per_msg_log_warning"] = quiet["cluster_cpu_ms_per_msg"]
            if baselines:
                result["vs_bare_log_warning"] = round(quiet["rate"] / bare["rate"], 3)
        return result
    finally:
        provider.stop()
