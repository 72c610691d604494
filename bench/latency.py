"""Scenario 2: seconds from start_at (scheduled) or creation (in-window) to the first request.

Measured at the provider: the arrival time of the first API request it logged (/_requests).
The cluster is idle between samples (its pumps have stopped), as a real one would be.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.harness import BenchEnv, Cluster, Provider, make_clients, wait_until

CLIENTS = 100


def _campaign(start_at: datetime, name: str):
    from messaging import services

    return services.create_campaign(
        values={
            "name": name,
            "text": "Latency probe",
            "start_at": start_at,
            "end_at": start_at + timedelta(hours=1),
        }
    )


def _first_request(provider: Provider, timeout: float) -> float | None:
    found: list[float] = []

    def arrived() -> bool:
        requests = provider.requests()
        if requests:
            found.append(min(r["at"] for r in requests))
        return bool(found)

    wait_until(arrived, timeout, interval=0.05)
    return found[0] if found else None


def _finished(campaign_id: int) -> bool:
    from messaging.models import Campaign, CampaignStatus

    return Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.FINISHED).exists()


def start_latency(env: BenchEnv, *, in_window: int = 3, scheduled: int = 2) -> dict:
    make_clients(CLIENTS)
    provider = Provider(latency_ms=5)
    cluster = Cluster(env, PROVIDER_URL=provider.url)
    in_window_s: list[float] = []
    scheduled_s: list[float] = []
    try:
        cluster.wait_ready()
        time.sleep(2)  # let the first housekeeping settle
        for i in range(in_window):
            provider.reset()
            created = time.time()
            campaign = _campaign(datetime.now(UTC) - timedelta(seconds=1), f"in-window {i}")
            first = _first_request(provider, 30)
            if first is not None:
                in_window_s.append(first - created)
            wait_until(lambda c=campaign: _finished(c.pk), 60)
            time.sleep(3)  # the pumps find nothing due and stop
        for i in range(scheduled):
            provider.reset()
            # A random offset, so the samples fall anywhere in the scheduler's 30 s cycle.
            start_at = datetime.now(UTC) + timedelta(seconds=random.uniform(3, 33))
            campaign = _campaign(start_at, f"scheduled {i}")
            first = _first_request(provider, 120)
            if first is not None:
                scheduled_s.append(first - start_at.timestamp())
            wait_until(lambda c=campaign: _finished(c.pk), 60)
            time.sleep(3)
    finally:
        cluster.stop()
        provider.stop()
    return {
        "scenario": "start_latency",
        "db": env.db,
        "in_window_s": [round(s, 3) for s in in_window_s],
        "in_window_max_s": round(max(in_window_s), 3) if in_window_s else None,
        "in_window_median_s": round(statistics.median(in_window_s), 3) if in_window_s else None,
        "scheduled_s": [round(s, 2) for s in scheduled_s],
        "scheduled_max_s": round(max(scheduled_s), 2) if scheduled_s else None,
        "missed": (in_window - len(in_window_s)) + (scheduled - len(scheduled_s)),
    }
