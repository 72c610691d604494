"""Scenario 3: read latency at scale, and the web process's memory (part of scenario 5).

Bulk-inserts clients and messages spread over campaigns (with matching CampaignCounts and
an hour of per-minute send buckets), runs ANALYZE (VACUUM ANALYZE on PostgreSQL), then
times pages served by a real gunicorn process (1 worker, 1 thread) over loopback HTTP with
`requests`.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import requests

from bench.harness import BenchEnv, make_clients, peak_rss_mb
from bench.web import WebServer, manager_credentials, manager_sessions

TAGS = ("vip", "new", "", "regular", "churned")
# Out of 100 messages of a campaign: status by position (deterministic, realistic mix).
STATUS_MIX = [("sent", 90), ("failed", 4), ("expired", 3), ("pending", 2), ("cancelled", 1)]


def _status_for(j: int) -> str:
    k = j % 100
    for status, share in STATUS_MIX:
        if k < share:
            return status
        k -= share
    return "sent"


def populate(*, clients: int, messages: int, campaigns: int) -> list[int]:
    """Clients, campaigns, messages and counters; returns the campaign ids."""
    from django.db import connection
    from django.utils import timezone

    from messaging.models import Campaign, CampaignCounts, Message, SendBucket

    make_clients(clients, prefix="79", tags=TAGS)
    now = timezone.now()
    objs = []
    for c in range(campaigns):
        running = c >= campaigns - 10  # the newest ten are still sending
        objs.append(
            Campaign(
                name=f"Campaign {c}",
                text="Scale test",
                start_at=now - timedelta(days=1, hours=c % 24),
                end_at=now + timedelta(hours=2) if running else now - timedelta(hours=1),
                status="running" if running else "finished",
                targets_selected_at=now - timedelta(days=1),
            )
        )
    Campaign.objects.bulk_create(objs)
    ids = list(Campaign.objects.order_by("id").values_list("id", flat=True))
    per = messages // campaigns
    counts = []
    table = Message._meta.db_table
    columns = "campaign_id, client_id, phone, status, created_at, sent_at, attempts, last_error, "
    columns += "next_attempt_at"
    stamp = now - timedelta(hours=3)
    for index, campaign_id in enumerate(ids):
        by_status = dict.fromkeys(("pending", "sent", "failed", "expired", "cancelled"), 0)
        rows = []
        for j in range(per):
            client_index = (index * per + j) % clients
            status = _status_for(j)
            by_status[status] += 1
            rows.append(
                (
                    campaign_id,
                    client_index + 1,
                    f"79{client_index:09d}",
                    status,
                    stamp,
                    stamp if status == "sent" else None,
                    1 if status != "pending" else 0,
                    "",
                    stamp,
                )
            )
        _insert(connection, table, columns, rows)
        counts.append(CampaignCounts(campaign_id=campaign_id, **by_status))
    CampaignCounts.objects.bulk_create(counts)
    minute = now.replace(second=0, microsecond=0)
    SendBucket.objects.bulk_create(
        SendBucket(campaign_id=cid, minute=minute - timedelta(minutes=m), sent=40, failed=1)
        for cid in ids[-10:]
        for m in range(60)
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum does after a bulk load (PostgreSQL 13+ vacuums after inserts
            # too): statistics, and a visibility map so counts can use index-only scans.
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    return ids


def _insert(connection, table: str, columns: str, rows: list[tuple]) -> None:
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns.split(",")))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_get(session: requests.Session, url: str, repeat: int, headers=None, ok=200) -> dict:
    errors = 0
    for _ in range(3):  # warm caches and the connection
        session.get(url, timeout=60, headers=headers)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = session.get(url, timeout=60, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        errors += response.status_code != ok
    return {
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "errors": errors,
        "bytes": len(response.content),
    }


STAMP = re.compile(r'"X-Herald-Stamp": "([0-9a-f]+)"')


def time_dashboard_polls(browser: requests.Session, url: str, repeat: int) -> dict:
    """The dashboard's poll every 2 s: its live part re-rendered (something changed), and the
    204 it gets while nothing has (the stamp includes the minute: a sample that crosses one
    is taken again)."""
    poll = {"HX-Request": "true", "HX-Target": "dashboard-live"}
    timings = {"GET / poll, changed (live part)": time_get(browser, url + "/", repeat, poll)}
    for _ in range(3):
        stamp = STAMP.search(browser.get(url + "/", headers=poll, timeout=60).text).group(1)
        unchanged = time_get(browser, url + "/", repeat, {**poll, "X-Herald-Stamp": stamp}, ok=204)
        if not unchanged["errors"]:
            break
    timings["GET / poll, unchanged (204)"] = unchanged
    return timings


def reads(env: BenchEnv, *, clients: int, messages: int, campaigns: int, repeat: int) -> dict:

    started = time.monotonic()
    ids = populate(clients=clients, messages=messages, campaigns=campaigns)
    populate_s = time.monotonic() - started
    token, session_id = manager_credentials()
    from bench.harness import close_db

    close_db()
    server = WebServer(env, workers=1, threads=1)
    try:
        api, browser = manager_sessions(token, session_id)
        pages = {
            "GET /api/stats/": (api, "/api/stats/"),
            "GET /api/campaigns/{id}/stats/": (api, f"/api/campaigns/{ids[len(ids) // 2]}/stats/"),
            "GET / (dashboard)": (browser, "/"),
            "GET /api/clients/ (first page)": (api, "/api/clients/"),
            "GET /api/clients/?tag=vip&operator_code=900&page=5": (
                api,
                "/api/clients/?tag=vip&operator_code=900&page=5",
            ),
            "GET /api/clients/?search=7900001 (search)": (api, "/api/clients/?search=7900001"),
            # Digits inside the phone: no index finds them. Many matches stop the pass at
            # the cap; none is one whole pass over the phones.
            "GET /clients/?search=4567 (digits inside, many)": (browser, "/clients/?search=4567"),
            "GET /api/clients/?search=98989898 (digits inside, none)": (
                api,
                "/api/clients/?search=98989898",
            ),
        }
        timings = {
            name: time_get(s, server.url + path, repeat) for name, (s, path) in pages.items()
        }
        timings.update(time_dashboard_polls(browser, server.url, repeat))
        rss = peak_rss_mb(server.worker_pids())
    finally:
        server.stop()
    return {
        "scenario": "reads",
        "db": env.db,
        "clients": clients,
        "messages": messages,
        "campaigns": campaigns,
        "server": "gunicorn, 1 worker, 1 thread, over loopback HTTP",
        "populate_s": round(populate_s, 1),
        "pages": timings,
        "worst_median_ms": max(t["median_ms"] for t in timings.values()),
        "worst_p95_ms": max(t["p95_ms"] for t in timings.values()),
        "errors": sum(t["errors"] for t in timings.values()),
        "web_peak_rss_mb": round(rss, 1),
    }
