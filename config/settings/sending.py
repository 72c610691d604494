"""Sending: the provider, the engine, django-q2 (ORM broker) and the retention of old rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import is_currency
from django.core.exceptions import ImproperlyConfigured

from core.env import env_decimal, env_float, env_http_url, env_int, env_str

# --- Sending provider -------------------------------------------------------
PROVIDER_URL = env_http_url("PROVIDER_URL", "http://127.0.0.1:8001/v1")
PROVIDER_TOKEN = env_str("PROVIDER_TOKEN", "local-dev-token")
# Requests in flight per sender (asyncio; sized for a provider answering in ~200 ms).
PROVIDER_CONCURRENCY = env_int("PROVIDER_CONCURRENCY", 500, minimum=1)
PROVIDER_RATE_LIMIT = env_float("PROVIDER_RATE_LIMIT", 0, minimum=0)  # msg/s; 0 = no cap
PROVIDER_CONNECT_TIMEOUT = env_float("PROVIDER_CONNECT_TIMEOUT", 3.0, minimum=0.1)
PROVIDER_READ_TIMEOUT = env_float("PROVIDER_READ_TIMEOUT", 10.0, minimum=0.1)
# The longest campaign text, in SMS parts (messaging/campaigns/sms.py counts them).
SMS_MAX_PARTS = env_int("SMS_MAX_PARTS", 6, minimum=1)
# The price of one SMS part and its currency (ISO 4217): the review before launch shows
# the estimated cost of a campaign when the price is set.
SMS_PART_PRICE = env_decimal("SMS_PART_PRICE", minimum=Decimal(0))
SMS_CURRENCY = env_str("SMS_CURRENCY", "RUB").strip().upper()
if not is_currency(SMS_CURRENCY):
    raise ImproperlyConfigured(
        f"SMS_CURRENCY must be an ISO 4217 code such as RUB, got {SMS_CURRENCY!r}"
    )

# --- Sending engine -----------------------------------------------------------
# Sender tasks ("pumps") running at once; each sends PROVIDER_CONCURRENCY requests.
ENGINE_PUMPS = env_int("ENGINE_PUMPS", 2, minimum=1)
# A pump task hands back its worker after this long and queues its successor.
ENGINE_TASK_BUDGET = env_float("ENGINE_TASK_BUDGET", 120, minimum=5)
# Results recorded per write transaction, at most.
ENGINE_FLUSH_BATCH = env_int("ENGINE_FLUSH_BATCH", 500, minimum=1)
# The longest database outage that re-sends nothing: a sender holds the results of its
# requests until the database answers again, and a claim's lease outlasts the outage
# (so messages of a worker that died wait that much longer before they go again).
ENGINE_OUTAGE_SECONDS = env_float("ENGINE_OUTAGE_SECONDS", 120, minimum=0)
RETRY_BASE_SECONDS = env_float("RETRY_BASE_SECONDS", 2, minimum=0.1)
RETRY_MAX_SECONDS = env_float("RETRY_MAX_SECONDS", 300, minimum=1)
# Circuit breaker: open when this share of the last CIRCUIT_WINDOW requests failed.
CIRCUIT_WINDOW = env_int("CIRCUIT_WINDOW", 50, minimum=2)
CIRCUIT_FAILURE_RATIO = env_float("CIRCUIT_FAILURE_RATIO", 0.6, minimum=0.01)
CIRCUIT_COOLDOWN_SECONDS = env_float("CIRCUIT_COOLDOWN_SECONDS", 5, minimum=0.1)
CIRCUIT_MAX_COOLDOWN_SECONDS = env_float("CIRCUIT_MAX_COOLDOWN_SECONDS", 60, minimum=0.1)
CREDENTIALS_RECHECK_SECONDS = env_float("CREDENTIALS_RECHECK_SECONDS", 30, minimum=1)

# --- Background work (django-q2, ORM broker) --------------------------------
Q_CLUSTER: dict[str, Any] = {
    "name": "herald",
    "orm": "default",
    # django-q2's ORM broker, waiting out a database outage instead of crashing its pusher.
    "broker_class": "messaging.engine.broker.QuietORM",
    # One worker more than the pumps so the housekeeping and report tasks always get one.
    "workers": env_int("Q_WORKERS", ENGINE_PUMPS + 1, minimum=1),
    # A task may run this long; retry must exceed it or a task runs twice.
    "timeout": env_int("Q_TIMEOUT", 300, minimum=10),
    "retry": env_int("Q_RETRY", 360, minimum=20),
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "poll": 0.2,
    "save_limit": 1000,
    "label": "Tasks",
}
if Q_CLUSTER["retry"] <= Q_CLUSTER["timeout"]:
    raise ImproperlyConfigured("Q_RETRY must be greater than Q_TIMEOUT")
# A sender task runs its budget, may then ride out a whole outage and still wind down (its
# last requests' timeouts): django-q2 must not end it on the way.
LONGEST_SENDER_TASK = (
    ENGINE_TASK_BUDGET
    + ENGINE_OUTAGE_SECONDS
    + PROVIDER_CONNECT_TIMEOUT
    + PROVIDER_READ_TIMEOUT
    + 10
)
if Q_CLUSTER["timeout"] < LONGEST_SENDER_TASK:
    raise ImproperlyConfigured(
        "Q_TIMEOUT must be at least ENGINE_TASK_BUDGET + ENGINE_OUTAGE_SECONDS + "
        f"PROVIDER_CONNECT_TIMEOUT + PROVIDER_READ_TIMEOUT + 10 = {LONGEST_SENDER_TASK:.0f} s"
    )

# --- Retention (messaging/engine/housekeeping.py, a daily django-q2 schedule) -----------
# Days each kind of row is kept; 0 keeps it forever. Campaign totals survive (counters).
RETENTION_ATTEMPTS_DAYS = env_int("RETENTION_ATTEMPTS_DAYS", 90, minimum=0)
RETENTION_MESSAGES_DAYS = env_int("RETENTION_MESSAGES_DAYS", 90, minimum=0)
RETENTION_SEND_BUCKETS_DAYS = env_int("RETENTION_SEND_BUCKETS_DAYS", 90, minimum=0)
RETENTION_TASK_RESULTS_DAYS = env_int("RETENTION_TASK_RESULTS_DAYS", 30, minimum=0)
RETENTION_SESSIONS_DAYS = env_int("RETENTION_SESSIONS_DAYS", 7, minimum=0)
RETENTION_AUDIT_DAYS = env_int("RETENTION_AUDIT_DAYS", 365, minimum=0)
# Rows per DELETE (each its own short transaction), and how long one run may take
# before it queues a continuation (well under Q_TIMEOUT).
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 1000, minimum=1)
RETENTION_MAX_SECONDS = env_int("RETENTION_MAX_SECONDS", 120, minimum=1)
if Q_CLUSTER["timeout"] <= RETENTION_MAX_SECONDS:
    raise ImproperlyConfigured("RETENTION_MAX_SECONDS must be less than Q_TIMEOUT")
