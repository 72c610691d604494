from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from messaging import health
from messaging.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_sign_in_or_database(client, viewer, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.get("/healthz/").status_code == 200
    # Even for a browser that is signed in (its session is not looked up).
    client.force_login(viewer)
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200


def test_readyz_is_ready_with_the_database_migrated_and_a_worker_seen(client):
    health.heartbeat()  # what the every-minute schedule runs on a worker
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"] == {"ok": True}
    assert body["checks"]["worker"]["ok"] is True


def test_readyz_is_not_ready_before_any_worker_ran(client):
    response = client.get("/readyz/")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["no worker has run yet (start manage.py qcluster)"]


def test_readyz_is_not_ready_when_the_worker_went_quiet(client, settings):
    settings.WORKER_HEARTBEAT_MAX_AGE = 180
    WorkerHeartbeat.objects.create(name="cluster", seen_at=timezone.now() - timedelta(minutes=10))
    response = client.get("/readyz")
    assert response.status_code == 503
    [reason] = response.json()["reasons"]
    assert reason.startswith("no worker seen for 6") and reason.endswith("(limit 180 s)")


def test_readyz_without_the_worker_check_for_web_pods(client):
    response = client.get("/readyz?worker=0")
    assert response.status_code == 200
    assert "worker" not in response.json()["checks"]


def test_readyz_is_not_ready_with_an_unapplied_migration(client, monkeypatch):
    from django.db.migrations.loader import MigrationLoader

    monkeypatch.setattr(health, "_migrations_applied", False)
    [(app, latest)] = MigrationLoader(connection).graph.leaf_nodes("messaging")
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute("DELETE FROM django_migrations WHERE app = %s AND name = %s", [app, latest])
    health.heartbeat()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["reasons"] == ["1 unapplied migration(s)"]
    assert body["checks"]["migrations"]["pending"] == [f"messaging.{latest}"]
