"""GET /api/provider/: the provider's state for Managers."""

from __future__ import annotations

import pytest

from messaging.models import CircuitState, ProviderState

pytestmark = pytest.mark.django_db


def test_managers_read_the_provider_state(manager_api):
    body = manager_api.get("/api/provider/").json()
    assert body["sending"] == "normal"
    assert body["circuit"] == "closed"
    assert body["credentials_rejected"] is False
    assert body["updated_at"] is None  # no worker has touched it yet

    ProviderState.objects.create(
        pk=1,
        circuit=CircuitState.OPEN,
        cooldown_seconds=10,
        last_error="HTTP 503",
        error_rate=0.9,
        latency_ms=120.0,
    )
    body = manager_api.get("/api/provider/").json()
    assert body["sending"] == "held"
    assert body["circuit"] == "open"
    assert body["last_error"] == "HTTP 503"
    assert body["error_rate"] == 0.9
    assert body["summary"].startswith("The provider looks down")

    ProviderState.objects.filter(pk=1).update(
        credentials_rejected=True, credentials_detail="HTTP 401: bad token"
    )
    body = manager_api.get("/api/provider/").json()
    assert body["sending"] == "stopped"
    assert body["credentials_detail"] == "HTTP 401: bad token"


def test_viewers_and_strangers_may_not(viewer_api, anon_api):
    assert viewer_api.get("/api/provider/").status_code == 403
    assert anon_api.get("/api/provider/").status_code == 401


def test_reading_it_writes_nothing(manager_api):
    manager_api.get("/api/provider/")
    assert not ProviderState.objects.exists()
