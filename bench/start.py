"""Scenario start_latency: seconds from start_at (scheduled) or creation (in-window) to the
first request.

Measured at the provider: the arrival time of the first API request it logged (/_requests).
Before each sample the cluster is idle (no sender running: every pump slot released), as a
real one is between campaigns, so a scheduled start goes the whole way: the cluster's clock
sees it, queues the senders, a worker takes one, the campaign starts, messages are claimed.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.harness import BenchEnv, Cluster, Provider, make_clients, wait_until

CLIENTS = 100
# start_at this far ahead of creation: longer than the cluster's clock needs to see it,
# and random, so the samples fall anywhere in every polling cycle.
SCHEDULED_AHEAD_S = (3.0, 12.0)


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


def _idle() -> bool:
    """No sender holds a pump slot (a sender releases its slot when it stops)."""
    from messaging.models import PumpSlot

    return not PumpSlot.objects.filter(token__isnull=False).exists()


def _summary(samples: list[float]) -> tuple[float | None, float | None]:
    if not samples:
        return None, None
    return round(max(samples), 3), round(statistics.median(samples), 3)


def start_latency(env: BenchEnv, *, in_window: int = 3, scheduled: int = 5) -> dict:
    make_clients(CLIENTS)
    provider = Provider(latency_ms=5)
    cluster = Cluster(env, PROVIDER_URL=provider.url)
    in_window_s: list[float] = []
    scheduled_s: list[float] = []
    not_idle = 0
    try:
        cluster.wait_ready()
        time.sleep(2)  # let the first housekeeping settle
        for i in range(in_window + scheduled):
            if not wait_until(_idle, 60, interval=0.2):
                not_idle += 1
            provider.reset()
            if i < in_window:
                created = time.time()
                campaign = _campaign(datetime.now(UTC) - timedelta(seconds=1), f"in-window {i}")
                first = _first_request(provider, 30)
                if first is not None:
                    in_window_s.append(first - created)
            else:
                start_at = datetime.now(UTC) + timedelta(seconds=random.uniform(*SCHEDULED_AHEAD_S))
                campaign = _campaign(start_at, f"scheduled {i - in_window}")
                first = _first_request(provider, 120)
                if first is not None:
                    scheduled_s.append(first - start_at.timestamp())
            wait_until(lambda c=campaign: _finished(c.pk), 60)
    finally:
        cluster.stop()
        provider.stop()
    in_window_max, in_window_median = _summary(in_window_s)
    scheduled_max, scheduled_median = _summary(scheduled_s)
    return {
        "scenario": "start_latency",
        "db": env.db,
        "in_window_s": [round(s, 3) for s in in_window_s],
        "in_window_max_s": in_window_max,
        "in_window_median_s": in_window_median,
        "scheduled_s": [round(s, 3) for s in scheduled_s],
        "scheduled_max_s": scheduled_max,
        "scheduled_median_s": scheduled_median,
        # Samples taken while a sender was still running (it did not stop within 60 s).
        "samples_not_idle": not_idle,
        "missed": (in_window - len(in_window_s)) + (scheduled - len(scheduled_s)),
    }
