"""Sending at a real provider's latency (200 ms +- 50 ms): scenarios `latency` and `hangs`.

`latency`: one campaign with the default engine settings, end to end, then the bare loop
of the same transport (`AsyncProviderClient`, the engine's concurrency, no database)
against the same provider in the same run; the engine is held to 0.8 of it.

`hangs`: the same campaign twice in one run, fault-free and then with 3% of requests
hanging 30 s past the default read timeout (10 s), so the rate under hangs is compared
with a fault-free rate measured minutes earlier on the same machine.
"""

from __future__ import annotations

from bench.harness import BenchEnv, Provider, make_clients
from bench.throughput import bare_loop, engine_run

LATENCY_MS = 200
JITTER_MS = 50


def _settings() -> dict:
    from django.conf import settings

    return {
        "pumps": settings.ENGINE_PUMPS,
        "concurrency": settings.PROVIDER_CONCURRENCY,
        "read_timeout_s": settings.PROVIDER_READ_TIMEOUT,
    }


def _timeout(count: int) -> float:
    # Generous: a run that does not finish says so ("finished": false) instead of hanging.
    return max(180, count / 25)


def latency(
    env: BenchEnv, *, count: int, latency_ms: float = LATENCY_MS, jitter_ms: float = JITTER_MS
) -> dict:
    make_clients(count)
    provider = Provider(latency_ms=latency_ms, latency_jitter_ms=jitter_ms)
    try:
        engine = engine_run(env, provider, count, timeout=_timeout(count), name="latency")
        bare = bare_loop(env, provider, count)
    finally:
        provider.stop()
    return {
        "scenario": "latency",
        "db": env.db,
        "clients": count,
        "latency_ms": latency_ms,
        "jitter_ms": jitter_ms,
        **_settings(),
        **engine,
        "bare_rate": round(bare["rate"], 1),
        "bare_cpu_ms_per_msg": round(bare["cpu_ms_per_msg"], 3),
        "bare_receipts_duplicated": bare["receipts_duplicated"],
        "vs_bare": round(engine["rate"] / bare["rate"], 3),
    }


def hangs(
    env: BenchEnv,
    *,
    count: int,
    latency_ms: float = LATENCY_MS,
    jitter_ms: float = JITTER_MS,
    hang_rate: float = 0.03,
    hang_seconds: float = 30,
) -> dict:
    make_clients(count)
    provider = Provider(latency_ms=latency_ms, latency_jitter_ms=jitter_ms)
    try:
        clean = engine_run(env, provider, count, timeout=_timeout(count), name="fault-free")
        provider.configure(hang_rate=hang_rate, hang_seconds=hang_seconds)
        hung = engine_run(env, provider, count, timeout=_timeout(count), name="hangs")
    finally:
        provider.stop()

    def ratio(a, b):
        return round(a / b, 3) if a and b else None

    return {
        "scenario": "hangs",
        "db": env.db,
        "clients": count,
        "latency_ms": latency_ms,
        "jitter_ms": jitter_ms,
        "hang_rate": hang_rate,
        "hang_seconds": hang_seconds,
        **_settings(),
        **hung,
        "fault_free_rate": clean["rate"],
        "vs_fault_free": ratio(hung["rate"], clean["rate"]),
        "fault_free_first_pass_rate": clean["first_pass_rate"],
        "first_pass_vs_fault_free": ratio(hung["first_pass_rate"], clean["first_pass_rate"]),
        "fault_free_longest_gap_s": clean["longest_gap_s"],
        "fault_free_finished": clean["finished"],
        # Figures that must hold in every run hold over both campaigns.
        "receipts_duplicated": hung["receipts_duplicated"] + clean["receipts_duplicated"],
        "requests_after_end_at": hung["requests_after_end_at"] + clean["requests_after_end_at"],
        "accepted_recorded_otherwise": hung["accepted_recorded_otherwise"]
        + clean["accepted_recorded_otherwise"],
        "worker_peak_rss_mb": max(hung["worker_peak_rss_mb"], clean["worker_peak_rss_mb"]),
    }
