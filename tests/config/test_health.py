from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from messaging import tasks
from messaging.models import WorkerHeartbeat
from messaging.reporting import readiness

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
    tasks.heartbeat()  # what the every-minute schedule runs on a worker
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

    monkeypatch.setattr(readiness, "_migrations_applied", False)
    [(app, latest)] = MigrationLoader(connection).graph.leaf_nodes("messaging")
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute("DELETE FROM django_migrations WHERE app = %s AND name = %s", [app, latest])
    tasks.heartbeat()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["reasons"] == ["1 unapplied migration(s)"]
    assert body["checks"]["migrations"]["pending"] == [f"messaging.{latest}"]


def test_readyz_shows_no_connection_details_when_the_database_is_down(client, monkeypatch, caplog):
    from django.db import OperationalError

    secret = 'connection to server at "db.internal" (10.0.0.5), port 5432 failed'

    def refuse(*args, **kwargs):
        raise OperationalError(secret)

    monkeypatch.setattr(connection, "cursor", refuse)
    with caplog.at_level("WARNING", logger="messaging.reporting.readiness"):
        response = client.get("/readyz")
    assert response.status_code == 503
    text = response.content.decode()
    assert response.json()["reasons"] == ["database unreachable (details in the log)"]
    assert "10.0.0.5" not in text and "5432" not in text and "db.internal" not in text
    assert "10.0.0.5" in caplog.text  # the operator still finds it


def test_readyz_reports_the_provider_state_without_failing_readiness(client):
    from messaging.models import CircuitState, ProviderState

    tasks.heartbeat()
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["provider"]["sending"] == "normal"
    assert "warnings" not in body

    ProviderState.objects.create(
        pk=1,
        credentials_rejected=True,
        credentials_detail="HTTP 401: token expired",
        last_error="HTTP 401 from https://provider.example/v1/send/7",
    )
    response = client.get("/readyz?worker=0")
    assert response.status_code == 200  # the web pods stay in the load balancer
    body = response.json()
    assert body["status"] == "ready"
    assert body["provider"]["sending"] == "stopped"
    assert body["provider"]["credentials_rejected"] is True
    assert body["warnings"] == [body["provider"]["summary"]]
    assert "rejects Herald's credentials" in body["warnings"][0]
    # The provider's own answers are for Managers (GET /api/provider/), not for anyone.
    assert "token expired" not in response.content.decode()
    assert "provider.example" not in response.content.decode()

    until = timezone.now() + timedelta(seconds=30)
    ProviderState.objects.filter(pk=1).update(
        credentials_rejected=False, circuit=CircuitState.OPEN, opened_until=until
    )
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["provider"]["sending"] == "held"
    assert body["provider"]["circuit"] == "open"
    assert parse_datetime(body["provider"]["opened_until"]) == until.replace(
        microsecond=until.microsecond // 1000 * 1000  # JSON keeps milliseconds
    )


def test_a_worker_process_starting_writes_the_heartbeat(client):
    """django-q2 sends post_spawn in each worker process it starts (see the cluster test)."""
    from django_q.signals import post_spawn

    assert client.get("/readyz").status_code == 503
    post_spawn.send(sender="django_q", proc_name="Process-1:1")
    assert WorkerHeartbeat.last_seen() is not None
    assert client.get("/readyz").status_code == 200


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_readyz_is_ready_as_soon_as_a_real_cluster_is_up(client):
    """No scheduled heartbeat can run here: the one at worker start alone makes it ready."""
    import time

    from django_q.models import Schedule

    from tests.support.cluster import running_cluster

    Schedule.objects.all().delete()
    assert client.get("/readyz").status_code == 503
    with running_cluster("http://127.0.0.1:9/v1", Q_WORKERS="1", ENGINE_PUMPS="1") as proc:
        deadline = time.monotonic() + 60  # a bound on start-up, not a measurement
        while WorkerHeartbeat.last_seen() is None and time.monotonic() < deadline:
            assert proc.poll() is None, proc.log()[-2000:]
            time.sleep(0.2)
        response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["worker"]["ok"] is True
