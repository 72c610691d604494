"""A campaign created through the API is fully sent by a real `qcluster` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from messaging.models import Campaign, CampaignCounts, CampaignStatus
from tests.engine.conftest import make_clients


def database_env() -> dict[str, str]:
    """Point a child process at the test database this test runs on."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": db["NAME"], "DATABASE_URL": ""}
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return {"DATABASE_URL": f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"}


@pytest.fixture
def cluster(provider):
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "PROVIDER_URL": provider.url,
        "ENGINE_PUMPS": "2",
        "Q_WORKERS": "3",
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=settings.BASE_DIR,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)  # SIGINT: how django-q2 stops cleanly
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_campaign_created_through_the_api_is_fully_sent_by_the_cluster(
    cluster, provider, manager_api
):
    provider.configure(latency_ms=5)
    make_clients(200)
    now = timezone.now()
    response = manager_api.post(
        "/api/campaigns/",
        {
            "text": "End to end",
            "start_at": (now - timedelta(seconds=5)).isoformat(),
            "end_at": (now + timedelta(minutes=10)).isoformat(),
        },
    )
    assert response.status_code == 201
    campaign_id = response.json()["id"]

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if Campaign.objects.get(pk=campaign_id).status == CampaignStatus.FINISHED:
            break
        assert cluster.poll() is None, cluster.stderr.read().decode()[-2000:]
        time.sleep(0.25)
    counts = CampaignCounts.objects.get(pk=campaign_id)
    assert counts.sent == 200, counts.as_dict()
    receipts = provider.receipts()["receipts"]
    assert len(receipts) == 200
    assert all(r["count"] == 1 for r in receipts.values())
