from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import ThreadingHTTPServer

import pytest
import requests
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from django_q.tasks import async_task
from prometheus_client.parser import text_string_to_metric_families

from messaging.models import ProviderState, WorkerHeartbeat
from messaging.reporting import metrics
from tests.engine.conftest import (  # noqa: F401  (fixtures: a scripted provider over HTTP)
    fast_retries,
    make_clients,
    run_pump,
    running_campaign,
    scripted,
)
from tests.support.ops_helpers import campaign_with_messages

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    """Scrape /metrics and parse it with prometheus-client's own parser."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def signed_in(client, viewer):
    client.force_login(viewer)
    return client


def test_metrics_show_messages_and_campaigns_by_status_read_from_the_database(signed_in):
    now = timezone.now()
    campaign_with_messages(
        name="Running",
        start_at=now - timedelta(hours=1),
        end_at=now + timedelta(hours=1),
        statuses={"sent": 4, "failed": 1, "pending": 3, "sending": 2},
    )
    campaign_with_messages(
        name="Done",
        start_at=now - timedelta(days=2),
        end_at=now - timedelta(days=1),
        statuses={"sent": 2, "expired": 5, "cancelled": 1},
        status="finished",
    )
    campaign_with_messages(
        name="Later",
        start_at=now + timedelta(days=1),
        end_at=now + timedelta(days=2),
        statuses={},
        status="scheduled",
    )
    async_task("math.floor", 1.5)  # one task waiting in the ORM broker
    WorkerHeartbeat.objects.create(name="cluster", seen_at=now - timedelta(seconds=30))

    samples = scrape(signed_in)

    assert value(samples, "herald_database_up") == 1
    expected = {"pending": 3, "sending": 2, "sent": 6, "failed": 1, "expired": 5, "cancelled": 1}
    for status, n in expected.items():
        assert value(samples, "herald_messages", status=status) == n
    assert value(samples, "herald_campaigns", status="running") == 1
    assert value(samples, "herald_campaigns", status="finished") == 1
    assert value(samples, "herald_campaigns", status="scheduled") == 1
    assert value(samples, "herald_campaigns", status="paused") == 0
    assert value(samples, "herald_queue_tasks") == 1
    assert value(samples, "herald_messages_due") == 3
    assert 29 <= value(samples, "herald_worker_heartbeat_age_seconds") < 90


def test_metrics_include_the_engines_provider_latency_and_retries(signed_in):
    before = scrape(signed_in)
    count_key = ("herald_provider_request_seconds_count", (("outcome", "timeout"),))
    retries_key = ("herald_message_retries_total", (("reason", "timeout"),))
    metrics.observe_provider_request("timeout", 3.2)
    metrics.observe_provider_request("timeout", 0.02)
    metrics.count_retry("timeout", 2)

    after = scrape(signed_in)

    assert after[count_key] - before.get(count_key, 0) == 2
    assert after[retries_key] - before.get(retries_key, 0) == 2
    bucket = ("herald_provider_request_seconds_bucket", (("le", "5.0"), ("outcome", "timeout")))
    assert after[bucket] - before.get(bucket, 0) == 2


def test_metrics_show_the_provider_circuit_state_the_engine_keeps(signed_in):
    ProviderState.objects.update_or_create(
        pk=1,
        defaults={
            "circuit": "open",
            "opened_until": timezone.now() + timedelta(seconds=30),
            "error_rate": 0.75,
            "latency_ms": 250,
            "last_error": "most recent requests failed",
        },
    )
    samples = scrape(signed_in)
    assert value(samples, "herald_provider_circuit_state", state="open") == 1
    assert value(samples, "herald_provider_circuit_state", state="closed") == 0
    assert value(samples, "herald_provider_circuit_state", state="half_open") == 0
    assert value(samples, "herald_provider_credentials_rejected") == 0
    assert value(samples, "herald_provider_error_rate") == 0.75
    assert value(samples, "herald_provider_latency_seconds") == 0.25


RECORD_IN_ANOTHER_PROCESS = """
from messaging.reporting import metrics
metrics.observe_provider_request("ok", 0.2)
metrics.count_retry("http_error", 3)
"""


def test_metrics_add_up_every_process_in_multiprocess_mode(signed_in, tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two worker processes, each recording then exiting
        subprocess.run([sys.executable, "-c", RECORD_IN_ANOTHER_PROCESS], env=env, check=True)

    with override_settings(PROMETHEUS_MULTIPROC_DIR=str(tmp_path)):
        samples = scrape(signed_in)

    assert value(samples, "herald_provider_request_seconds_count", outcome="ok") == 2
    assert value(samples, "herald_provider_request_seconds_sum", outcome="ok") == pytest.approx(0.4)
    assert value(samples, "herald_message_retries_total", reason="http_error") == 6
    assert value(samples, "herald_database_up") == 1


def test_metrics_need_a_signed_in_user_or_the_token(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    with override_settings(METRICS_TOKEN="s3cret-scrape-token"):
        for header in ("Bearer wrong", "Token s3cret-scrape-token", "s3cret-scrape-token"):
            assert client.get("/metrics", HTTP_AUTHORIZATION=header).status_code == 401
        scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    with override_settings(METRICS_PUBLIC=True):
        scrape(client)


def test_worker_metrics_sidecar_serves_the_workers_files(tmp_path):
    from messaging.management.commands.serve_metrics import MetricsHandler

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", RECORD_IN_ANOTHER_PROCESS], env=env, check=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), MetricsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    try:
        with override_settings(PROMETHEUS_MULTIPROC_DIR=str(tmp_path), METRICS_TOKEN="tok-123456"):
            assert requests.get(url, timeout=5).status_code == 401
            response = requests.get(url, headers={"Authorization": "Bearer tok-123456"}, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    retries = families["herald_message_retries"].samples
    assert [(s.labels, s.value) for s in retries if s.name.endswith("_total")] == [
        ({"reason": "http_error"}, 3.0)
    ]
    assert "herald_messages" not in families  # database gauges are the web's


def test_metrics_after_a_campaign_sent_through_the_engine(
    signed_in,
    scripted,  # noqa: F811
    fast_retries,  # noqa: F811
):
    before = scrape(signed_in)
    make_clients(3)
    campaign = running_campaign()
    scripted.respond(500, "provider down")  # one request fails, its retry succeeds
    run_pump(scripted.url, token=settings.PROVIDER_TOKEN)

    after = scrape(signed_in)

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0)

    assert value(after, "herald_messages", status="sent") == 3
    assert value(after, "herald_messages", status="pending") == 0
    assert value(after, "herald_messages_due") == 0
    campaign.refresh_from_db()
    assert value(after, "herald_campaigns", status=campaign.status) == 1
    assert delta("herald_provider_request_seconds_count", outcome="ok") == 3
    assert delta("herald_provider_request_seconds_count", outcome="http_error") == 1
    assert delta("herald_message_retries_total", reason="http_error") == 1
    assert value(after, "herald_provider_circuit_state", state="closed") == 1
