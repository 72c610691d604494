"""Prometheus metrics: those the workers record while sending, and /metrics' body.

Every metric is documented in docs/operations.md (name, type, labels, meaning).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

PROVIDER_REQUEST_SECONDS = Histogram(
    "herald_provider_request_seconds",
    "Duration of requests to the sending provider, by outcome.",
    ["outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
MESSAGE_RETRIES = Counter(
    "herald_message_retries_total",
    "Messages put back to wait for another attempt, by reason.",
    ["reason"],
)


RETENTION_DELETED = Counter(
    "herald_retention_deleted_total",
    "Rows deleted by the daily retention task, by kind.",
    ["kind"],
)
DATABASE_OUTAGES = Counter(
    "herald_database_outages_total",
    "Times a worker cluster lost its database (its clock thread could not read it).",
)
OUTCOMES_HELD = Gauge(
    "herald_outcomes_held",
    "Provider results senders hold in memory until the database answers again.",
    multiprocess_mode="livesum",
)
HELD_OUTCOMES = Counter(
    "herald_held_outcomes_total",
    "Provider results that waited for the database, by what became of them.",
    ["result"],
)


def observe_provider_request(outcome: str, seconds: float) -> None:
    PROVIDER_REQUEST_SECONDS.labels(outcome=outcome).observe(seconds)


def count_retry(reason: str, n: int = 1) -> None:
    if n:
        MESSAGE_RETRIES.labels(reason=reason).inc(n)


def count_retention_deleted(kind: str, n: int) -> None:
    if n:
        RETENTION_DELETED.labels(kind=kind).inc(n)


def count_database_outage() -> None:
    DATABASE_OUTAGES.inc()


def hold_outcomes(held: int, *, recorded: int = 0, given_up: int = 0) -> None:
    """A sender now holds `held` results; `recorded` and `given_up` of the held ones
    were just recorded after an outage, or given up (their messages go again)."""
    OUTCOMES_HELD.set(held)
    if recorded:
        HELD_OUTCOMES.labels(result="recorded").inc(recorded)
    if given_up:
        HELD_OUTCOMES.labels(result="given_up").inc(given_up)


# --- Exposition ---------------------------------------------------------------
#
# Everything below is read when /metrics is scraped. Values about messages,
# campaigns, the queue and the provider come from the database (or the engine's
# shared state), so every web process answers the same and nothing has to be
# summed across processes. The metrics above are recorded by the worker processes
# (senders, the clock, the retention task); with PROMETHEUS_MULTIPROC_DIR set,
# prometheus-client keeps them in files there and MultiProcessCollector adds up every
# process's values.


def _gauge(name: str, documentation: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time."""

    def collect(self):
        up = _gauge("herald_database_up", "1 when the database answered this scrape, else 0.")
        try:
            families = list(self._from_database())
        except DatabaseError:
            log.exception("metrics: the database could not be read")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _from_database(self):
        from messaging.reporting import readiness, reports, stats
        from messaging.reporting.provider_state import provider_state

        messages = _gauge(
            "herald_messages", "Messages by status, from the per-campaign counters.", ["status"]
        )
        for status, n in stats.message_totals().items():
            messages.add_metric([status], n)
        yield messages

        campaigns = _gauge("herald_campaigns", "Campaigns by status.", ["status"])
        for status, n in stats.campaigns_by_status().items():
            campaigns.add_metric([status], n)
        yield campaigns

        queue = _gauge(
            "herald_queue_tasks", "Tasks waiting in the django-q2 queue (ORM broker rows)."
        )
        queue.add_metric([], stats.queued_tasks())
        yield queue

        due = _gauge(
            "herald_messages_due",
            "Pending messages of running campaigns whose next attempt is due now.",
        )
        due.add_metric([], stats.messages_due())
        yield due

        age = readiness.worker_age_seconds()
        if age is not None:
            heartbeat = _gauge(
                "herald_worker_heartbeat_age_seconds",
                "Seconds since a worker last ran the heartbeat task (every minute).",
            )
            heartbeat.add_metric([], age)
            yield heartbeat

        last_report = reports.last_sent_at()
        if last_report is not None:
            report = _gauge(
                "herald_daily_report_last_sent_timestamp_seconds",
                "When the last scheduled daily report was sent (Unix time).",
            )
            report.add_metric([], last_report.timestamp())
            yield report

        yield from _provider_families(provider_state())


def _provider_families(status: dict):
    from messaging.models import CircuitState

    circuit = _gauge(
        "herald_provider_circuit_state",
        "The provider circuit breaker: 1 for its current state, 0 for the others.",
        ["state"],
    )
    for state in CircuitState.values:
        circuit.add_metric([state], 1 if status["circuit"] == state else 0)
    yield circuit
    rejected = _gauge(
        "herald_provider_credentials_rejected",
        "1 while the provider rejects Herald's token (401/403) and sending is stopped.",
    )
    rejected.add_metric([], 1 if status["credentials_rejected"] else 0)
    yield rejected
    if status["error_rate"] is not None:
        error_rate = _gauge(
            "herald_provider_error_rate",
            "Share of recent provider requests that failed (0-1), as the circuit breaker sees it.",
        )
        error_rate.add_metric([], float(status["error_rate"]))
        yield error_rate
    if status["latency_ms"] is not None:
        latency = _gauge(
            "herald_provider_latency_seconds",
            "Recent typical provider request latency, as the engine tracks it.",
        )
        latency.add_metric([], float(status["latency_ms"]) / 1000)
        yield latency


class _DefaultRegistry(Collector):
    """This process's own metrics (one process: no multiprocess directory)."""

    def collect(self):
        yield from REGISTRY.collect()


def process_registry() -> CollectorRegistry:
    """The metrics recorded by processes: summed over all of them in multiprocess mode."""
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(_DefaultRegistry())
    return registry


def scrape() -> bytes:
    """The /metrics body: process metrics plus the gauges read from the database."""
    registry = process_registry()
    registry.register(DatabaseCollector())
    return generate_latest(registry)
