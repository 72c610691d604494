"""Load: 32 concurrent users on the clients list and the stats API while a campaign sends.

The web side is gunicorn (2 workers x 16 threads) over loopback; the users are threads of
this process with a keep-alive `requests` session each, so client-side time is included.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import requests

from bench.harness import BenchEnv, Cluster, Provider, close_db, make_clients
from bench.reads import percentile
from bench.web import WebServer, manager_credentials


def load(env: BenchEnv, *, users: int, seconds: float, count: int) -> dict:
    from django.utils import timezone

    from messaging import services
    from messaging.models import CampaignCounts

    make_clients(count, tags=("vip", "new", "", "regular"))
    token, _ = manager_credentials()
    close_db()
    provider = Provider(latency_ms=20)
    cluster = Cluster(env, PROVIDER_URL=provider.url)
    server = WebServer(env, workers=2, threads=16)
    samples: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    try:
        cluster.wait_ready()
        now = timezone.now()
        campaign = services.create_campaign(
            values={
                "name": "under load",
                "text": "Load",
                "start_at": now - timedelta(seconds=1),
                "end_at": now + timedelta(hours=1),
            }
        )
        close_db()
        stop_at = time.monotonic() + seconds

        def user(index: int) -> None:
            session = requests.Session()
            session.trust_env = False
            session.headers["Authorization"] = f"Token {token}"
            paths = [
                f"/api/clients/?page={1 + index % 20}",
                "/api/stats/",
                "/api/clients/?tag=vip",
                f"/api/campaigns/{campaign.pk}/stats/",
            ]
            i = 0
            while time.monotonic() < stop_at:
                path = paths[i % len(paths)]
                i += 1
                started = time.perf_counter()
                try:
                    response = session.get(server.url + path, timeout=30)
                    ok = response.status_code == 200
                    problem = f"{response.status_code} {path}"
                except requests.RequestException as exc:
                    ok, problem = False, f"{type(exc).__name__} {path}"
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    samples.append(elapsed)
                    if not ok:
                        errors.append(problem)

        sent_before = CampaignCounts.objects.get(pk=campaign.pk).sent
        threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + 60)
        elapsed = time.monotonic() - started
        sent_during = CampaignCounts.objects.get(pk=campaign.pk).sent - sent_before
    finally:
        server.stop()
        cluster.stop()
        provider.stop()
    return {
        "scenario": "load",
        "db": env.db,
        "users": users,
        "seconds": round(elapsed, 1),
        "server": "gunicorn, 2 workers x 16 threads",
        "requests": len(samples),
        "requests_per_s": round(len(samples) / elapsed, 1),
        "errors": len(errors),
        "error_examples": errors[:5],
        "p50_ms": round(percentile(samples, 0.5), 1) if samples else None,
        "p99_ms": round(percentile(samples, 0.99), 1) if samples else None,
        "max_ms": round(max(samples), 1) if samples else None,
        "campaign_msgs_per_s_under_load": round(sent_during / elapsed, 1),
    }
