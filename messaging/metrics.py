"""Prometheus metrics recorded by the engine (exposition lives in the ops part).

Values about messages and campaigns are read from the database at scrape time;
these are the ones only a running process can observe.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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


def observe_provider_request(outcome: str, seconds: float) -> None:
    PROVIDER_REQUEST_SECONDS.labels(outcome=outcome).observe(seconds)


def count_retry(reason: str, n: int = 1) -> None:
    if n:
        MESSAGE_RETRIES.labels(reason=reason).inc(n)
