"""Rule 6: a circuit breaker holds all sending while the provider is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from messaging.engine import circuit
from messaging.engine.circuit import Gate
from messaging.models import CampaignCounts, CircuitState, Message, MessageStatus, ProviderState
from tests.engine.conftest import make_clients, run_pump, running_campaign


@pytest.mark.django_db
def test_circuit_opens_when_most_recent_requests_fail_and_holds_sending(provider, settings):
    settings.CIRCUIT_WINDOW = 10
    settings.CIRCUIT_COOLDOWN_SECONDS = 60
    provider.configure(outage=True)
    make_clients(200)
    campaign = running_campaign()
    run_pump(provider.url, budget=2, concurrency=4)
    state = ProviderState.get()
    assert state.circuit == CircuitState.OPEN
    assert state.opened_until > timezone.now()
    # Held after about one window of failures, not one request per message.
    assert provider.stats()["total"] < 40
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert counts.pending == 200 and counts.failed == 0


@pytest.mark.django_db
def test_after_cooldown_one_probe_reopens_sending(provider, settings, fast_retries):
    settings.CIRCUIT_WINDOW = 10
    settings.CIRCUIT_COOLDOWN_SECONDS = 60
    provider.configure(outage=True)
    make_clients(50)
    campaign = running_campaign()
    run_pump(provider.url, budget=1.5, concurrency=4)
    assert ProviderState.get().circuit == CircuitState.OPEN
    provider.configure(outage=False)
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
        run_pump(provider.url, concurrency=4)
    assert ProviderState.get().circuit == CircuitState.CLOSED
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 50
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    receipts = provider.receipts()["receipts"]
    assert all(r["count"] == 1 for r in receipts.values())


@pytest.mark.django_db
def test_a_failed_probe_opens_the_circuit_again_for_longer(settings):
    settings.CIRCUIT_COOLDOWN_SECONDS = 5
    settings.CIRCUIT_MAX_COOLDOWN_SECONDS = 60
    now = timezone.now()
    circuit.trip(now, "down")
    assert circuit.check_gate(now, fingerprint="f", probe_timeout=30) is Gate.HOLD
    later = now + timedelta(seconds=6)
    assert circuit.check_gate(later, fingerprint="f", probe_timeout=30) is Gate.PROBE
    # Only one worker wins the probe.
    assert circuit.check_gate(later, fingerprint="f", probe_timeout=30) is Gate.HOLD
    circuit.trip(later, "probe failed")
    state = ProviderState.get()
    assert state.circuit == CircuitState.OPEN and state.cooldown_seconds == 10


@pytest.mark.django_db
def test_a_down_provider_never_slows_or_breaks_the_web(viewer_api, client, viewer):
    circuit.trip(timezone.now(), "down")
    make_clients(3)
    campaign = running_campaign()
    assert viewer_api.get("/api/stats/").status_code == 200
    assert viewer_api.get(f"/api/campaigns/{campaign.pk}/stats/").status_code == 200
    client.force_login(viewer)
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_failures_from_before_a_hold_do_not_reopen_the_circuit(provider, settings):
    from messaging.provider import ProviderResult, Verdict
    from tests.engine.conftest import make_sender

    settings.CIRCUIT_WINDOW = 4
    pump = make_sender(provider.url, concurrency=2)
    for _ in range(4):
        pump.gate.failures.add(True)
    pump.gate.state = Gate.HOLD  # the circuit was open; another worker's probe then closed it
    pump._tick(timezone.now())
    assert pump.gate.state is Gate.GO
    ok = ProviderResult(
        verdict=Verdict.SENT, outcome="ok", started_at=timezone.now(), duration_ms=1
    )
    pump.gate.judge(ok, timezone.now())
    assert ProviderState.get().circuit == CircuitState.CLOSED
    assert pump.gate.state is Gate.GO


@pytest.mark.fast
def test_a_provider_failing_a_third_of_requests_does_not_trip_the_circuit():
    # Defaults: the circuit is for a provider that is down, not one that is flaky;
    # flaky answers are retried message by message.
    window = circuit.FailureWindow()
    tripped = False
    for i in range(300):
        window.add(i % 3 == 0)
        tripped = tripped or window.should_trip()
    assert not tripped
    for _ in range(window.size):
        window.add(True)
    assert window.should_trip()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fault", "closes"),
    [({"garbage_rate": 1.0}, True), ({"error_rate": 1.0}, False), ({"outage": True}, False)],
    ids=["malformed answer: up", "5xx: down", "outage: down"],
)
def test_the_probe_asks_whether_the_provider_answers(provider, settings, fault, closes):
    settings.CIRCUIT_COOLDOWN_SECONDS = 60
    settings.CIRCUIT_MAX_COOLDOWN_SECONDS = 600
    make_clients(1)
    running_campaign()
    circuit.trip(timezone.now(), "down")
    provider.configure(**fault)
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
        run_pump(provider.url, budget=1, concurrency=4)
        state = ProviderState.get()
    assert provider.stats()["total"] == 1  # one probe, nothing else while it was out
    assert (state.circuit == CircuitState.CLOSED) is closes
    if not closes:
        assert state.cooldown_seconds == 120  # a failed probe doubles the hold
    assert Message.objects.get().status == MessageStatus.PENDING  # retried either way
