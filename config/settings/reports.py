"""Email, the daily statistics report, metrics, readiness and logging."""

from __future__ import annotations

import logging
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import LANGUAGE_CODE, LANGUAGES, TIME_ZONE
from core.deployment import KNOWN_PLACEHOLDER_METRICS_TOKENS, is_placeholder
from core.env import env_bool, env_int, env_list, env_str, env_time, env_timezone

# --- Email and the daily report ---------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "herald@localhost")

# The daily statistics email: a django-q2 schedule runs it once a day at
# REPORT_TIME (HH:MM) in REPORT_TIMEZONE. A run later than REPORT_MAX_DELAY_MINUTES
# after that time (workers were down) skips the day instead of sending a backlog.
REPORT_TIME = env_time("REPORT_TIME", "08:00")
REPORT_TIMEZONE = env_timezone("REPORT_TIMEZONE", TIME_ZONE)
REPORT_RECIPIENTS = env_list("REPORT_RECIPIENTS")
for _address in REPORT_RECIPIENTS:
    if "@" not in _address:
        raise ImproperlyConfigured(f"REPORT_RECIPIENTS: {_address!r} is not an email address")
REPORT_MAX_DELAY_MINUTES = env_int("REPORT_MAX_DELAY_MINUTES", 180, minimum=1)
# The language of the emailed report (the preview follows the viewer's language).
REPORT_LANGUAGE = env_str("REPORT_LANGUAGE", LANGUAGE_CODE)
if REPORT_LANGUAGE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"REPORT_LANGUAGE must be one of {', '.join(dict(LANGUAGES))}")

# --- Metrics and health checks ----------------------------------------------
# /metrics: with METRICS_TOKEN set, `Authorization: Bearer <token>` is accepted
# (what Prometheus sends); a signed-in user is always accepted. METRICS_PUBLIC=1
# opens it to anyone, for a network where only the scraper can reach it.
METRICS_TOKEN = env_str("METRICS_TOKEN")
# The placeholder in k8s/secret.yaml is public: kept, it would open /metrics to anyone.
if is_placeholder(METRICS_TOKEN, KNOWN_PLACEHOLDER_METRICS_TOKENS):
    raise ImproperlyConfigured(
        "METRICS_TOKEN is a published placeholder; set a random one, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))', or leave it empty"
    )
METRICS_PUBLIC = env_bool("METRICS_PUBLIC", False)
# Set it for every process that records metrics (gunicorn, qcluster) and empty
# the directory before they start: prometheus-client then sums the processes.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR {PROMETHEUS_MULTIPROC_DIR!r} is not a directory; create it"
    )
# /readyz wants a worker heartbeat (a django-q2 schedule, every minute) no older than this.
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE", 180, minimum=60)

# --- Logging ------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be text or json")
# Lines carry their campaign, message and client ids as fields (JSON: keys of their own;
# text: `campaign_id=12 message_id=7 client_id=3` at the end) and never a token: see
# core/logs.py. One line per request from config.middleware.
# None of the formats shows where a line was logged from, or the thread or process: the
# logging module need not look them up for every line (its documented "Optimization").
logging._srcfile = None
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # A traceback because the database is away becomes one line, not one per retry.
        "outage": {"()": "core.outage.QuietOutageFilter"},
        "ids": {"()": "core.logs.IdsFilter"},
        "redact": {"()": "core.logs.RedactFilter"},
    },
    "formatters": {
        # One event per line: line breaks in a message are escaped (core/logs.py).
        "text": {
            "()": "core.logs.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            # Lines written in batches, at most 0.2 s late (see core/logs.py).
            "class": "core.logs.BatchedStreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["outage", "ids", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
