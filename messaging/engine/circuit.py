"""The provider gate shared by all workers: circuit breaker and refused credentials.

Each worker keeps its own window of recent outcomes and trips the shared
circuit when most of them failed. While open, nobody sends; after the cool-down
one worker wins the probe (a conditional UPDATE) and sends a single request.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from messaging.models import CircuitState, ProviderState
from messaging.provider import ProviderResult, Verdict

log = logging.getLogger(__name__)


class Gate(enum.Enum):
    GO = "go"
    HOLD = "hold"
    PROBE = "probe"  # this worker sends one request to test the provider


def _state() -> ProviderState:
    return ProviderState.get()


def check_gate(now: datetime, *, fingerprint: str, probe_timeout: float) -> Gate:
    state = _state()
    if state.credentials_rejected and state.rejected_token_fingerprint != fingerprint:
        # Someone changed PROVIDER_TOKEN since it was refused: try the new one.
        if ProviderState.objects.filter(pk=1, credentials_rejected=True).update(
            credentials_rejected=False, circuit=CircuitState.CLOSED, opened_until=None
        ):
            log.warning("provider token changed; sending resumes")
        return Gate.GO
    if state.circuit == CircuitState.CLOSED:
        return Gate.GO
    if state.circuit == CircuitState.HALF_OPEN:
        stale = state.probe_started_at and state.probe_started_at < now - timedelta(
            seconds=probe_timeout
        )
        if not stale:
            return Gate.HOLD
        won = ProviderState.objects.filter(
            pk=1, circuit=CircuitState.HALF_OPEN, probe_started_at=state.probe_started_at
        ).update(probe_started_at=now)
        return Gate.PROBE if won else Gate.HOLD
    if state.opened_until and state.opened_until > now:
        return Gate.HOLD
    won = ProviderState.objects.filter(
        pk=1, circuit=CircuitState.OPEN, opened_until=state.opened_until
    ).update(circuit=CircuitState.HALF_OPEN, probe_started_at=now)
    return Gate.PROBE if won else Gate.HOLD


def trip(now: datetime, reason: str, *, error_rate: float = 1.0) -> None:
    """Open the circuit; a failed probe doubles the cool-down up to the maximum.

    `error_rate` is the share of failures that tripped it, kept as the provider's error
    rate while it is held (no request is made then to say otherwise)."""
    with transaction.atomic():
        state = ProviderState.objects.select_for_update().get(pk=_state().pk)
        if state.circuit == CircuitState.OPEN and state.opened_until and state.opened_until > now:
            return
        if state.circuit == CircuitState.HALF_OPEN:
            cooldown = min(
                max(state.cooldown_seconds, settings.CIRCUIT_COOLDOWN_SECONDS) * 2,
                settings.CIRCUIT_MAX_COOLDOWN_SECONDS,
            )
        else:
            cooldown = settings.CIRCUIT_COOLDOWN_SECONDS
        state.circuit = CircuitState.OPEN
        state.cooldown_seconds = cooldown
        state.opened_until = now + timedelta(seconds=cooldown)
        state.last_error = reason[:300]
        state.error_rate = error_rate
        state.save()
    log.warning("provider circuit opened for %.1fs: %s", cooldown, reason)


def close(now: datetime) -> None:
    closed = (
        ProviderState.objects.filter(pk=1)
        .exclude(circuit=CircuitState.CLOSED, credentials_rejected=False)
        .update(
            circuit=CircuitState.CLOSED,
            opened_until=None,
            cooldown_seconds=0,
            credentials_rejected=False,
            credentials_detail="",
        )
    )
    if closed:
        log.warning("provider answered again; circuit closed, sending resumes")


def reject_credentials(now: datetime, *, fingerprint: str, detail: str) -> None:
    _state()
    ProviderState.objects.filter(pk=1).update(
        credentials_rejected=True,
        credentials_detail=detail[:300],
        rejected_token_fingerprint=fingerprint,
        circuit=CircuitState.OPEN,
        cooldown_seconds=settings.CREDENTIALS_RECHECK_SECONDS,
        opened_until=now + timedelta(seconds=settings.CREDENTIALS_RECHECK_SECONDS),
        last_error=detail[:300],
    )
    log.error("provider refused Herald's credentials; all sending stopped until fixed: %s", detail)


def record_health(*, latency_ms: float | None, error_rate: float | None) -> None:
    rows = ProviderState.objects.filter(pk=1)
    if error_rate is None:
        # No request since the circuit opened: the rate that opened it still holds.
        rows.filter(circuit=CircuitState.CLOSED).update(latency_ms=latency_ms, error_rate=None)
        rows.exclude(circuit=CircuitState.CLOSED).update(latency_ms=latency_ms)
    else:
        rows.update(latency_ms=latency_ms, error_rate=error_rate)


class FailureWindow:
    """This worker's recent outcomes: True for a failure worth tripping on."""

    def __init__(self, size: int | None = None, ratio: float | None = None) -> None:
        self.size = size or settings.CIRCUIT_WINDOW
        self.ratio = ratio or settings.CIRCUIT_FAILURE_RATIO
        self.outcomes: deque[bool] = deque(maxlen=self.size)

    def add(self, failed: bool) -> None:
        self.outcomes.append(failed)

    def should_trip(self) -> bool:
        if len(self.outcomes) < self.size:
            return False
        return sum(self.outcomes) / len(self.outcomes) >= self.ratio

    def error_rate(self) -> float | None:
        if not self.outcomes:
            return None
        return sum(self.outcomes) / len(self.outcomes)

    def clear(self) -> None:
        self.outcomes.clear()


class ProviderGate:
    """One sender's view of the shared gate: send, hold, or send the one probe.

    `refresh` reads the shared state (every tick); `judge` looks at each answer as it
    comes, so a refused token or a dead provider stops new requests at once.
    """

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.state = Gate.GO
        self.probe_inflight = False
        self.failures = FailureWindow()

    @property
    def open(self) -> bool:
        return self.state is Gate.GO

    @property
    def holding(self) -> bool:
        return self.state is Gate.HOLD

    @property
    def wants_probe(self) -> bool:
        return self.state is Gate.PROBE and not self.probe_inflight

    def refresh(self, now: datetime, *, probe_timeout: float) -> None:
        if self.state is Gate.PROBE:  # a won probe is kept until its answer
            return
        previous = self.state
        self.state = check_gate(now, fingerprint=self.fingerprint, probe_timeout=probe_timeout)
        if previous is not Gate.GO and self.state is Gate.GO:
            # Failures from before the hold say nothing about the provider now.
            self.failures.clear()

    def request_started(self) -> None:
        if self.state is Gate.PROBE:
            self.probe_inflight = True

    def request_not_made(self) -> None:
        """A started request was dropped before it went out: a probe may be tried again."""
        self.probe_inflight = False

    def judge(self, result: ProviderResult, now: datetime) -> None:
        if result.verdict is Verdict.CREDENTIALS:
            if self.state is not Gate.HOLD or self.probe_inflight:
                reject_credentials(now, fingerprint=self.fingerprint, detail=result.reason)
            self.state = Gate.HOLD
            self.probe_inflight = False
            return
        failed = result.verdict is Verdict.TRANSIENT
        if self.probe_inflight:
            self.probe_inflight = False
            # The probe asks whether the provider is up: any answer from it says yes, even
            # a malformed one (that message is retried as usual).
            if result.unreachable:
                trip(now, f"probe failed: {result.reason}")
                self.state = Gate.HOLD
            else:
                close(now)
                self.failures.clear()
                self.state = Gate.GO
            return
        self.failures.add(failed)
        if failed and self.state is Gate.GO and self.failures.should_trip():
            trip(
                now,
                f"most recent requests failed ({result.reason})",
                error_rate=self.failures.error_rate() or 1.0,
            )
            self.failures.clear()
            self.state = Gate.HOLD
