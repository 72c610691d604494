"""Operations settings: a bad value stops the start with a message naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SETTINGS = (
    "import config.settings as s; print(s.REPORT_TIME, s.REPORT_TIMEZONE, s.REPORT_RECIPIENTS)"
)


def load_settings(**env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "SECRET_KEY": "x" * 50, "DEBUG": "0", **env}
    return subprocess.run(
        [sys.executable, "-c", SETTINGS], env=environ, capture_output=True, text=True, timeout=60
    )


def test_report_settings_are_read_from_the_environment():
    result = load_settings(
        REPORT_TIME="07:30", REPORT_TIMEZONE="Europe/Moscow", REPORT_RECIPIENTS="a@x.org, b@y.org"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "07:30:00 Europe/Moscow ['a@x.org', 'b@y.org']"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REPORT_TIME": "25:00"}, "REPORT_TIME must be a time of day HH:MM, got '25:00'"),
        ({"REPORT_TIMEZONE": "Mars/Olympus"}, "REPORT_TIMEZONE 'Mars/Olympus' is not an IANA"),
        ({"REPORT_RECIPIENTS": "ops@x.org,nobody"}, "REPORT_RECIPIENTS: 'nobody' is not an email"),
        ({"REPORT_MAX_DELAY_MINUTES": "0"}, "REPORT_MAX_DELAY_MINUTES must be at least 1"),
        ({"WORKER_HEARTBEAT_MAX_AGE": "10"}, "WORKER_HEARTBEAT_MAX_AGE must be at least 60"),
        ({"METRICS_PUBLIC": "maybe"}, "METRICS_PUBLIC must be a boolean"),
        ({"PROVIDER_URL": "probe.example/v1"}, "PROVIDER_URL must be an http:// or https:// URL"),
        (
            {"PROMETHEUS_MULTIPROC_DIR": "/nonexistent/prometheus"},
            "PROMETHEUS_MULTIPROC_DIR '/nonexistent/prometheus' is not a directory",
        ),
        ({"RETENTION_MESSAGES_DAYS": "-1"}, "RETENTION_MESSAGES_DAYS must be at least 0"),
        ({"RETENTION_BATCH_SIZE": "0"}, "RETENTION_BATCH_SIZE must be at least 1"),
        (
            {"RETENTION_MAX_SECONDS": "300", "Q_TIMEOUT": "300"},
            "RETENTION_MAX_SECONDS must be less than Q_TIMEOUT",
        ),
        (
            {"ENGINE_OUTAGE_SECONDS": "200"},
            "Q_TIMEOUT must be at least ENGINE_TASK_BUDGET + ENGINE_OUTAGE_SECONDS + "
            "PROVIDER_CONNECT_TIMEOUT + PROVIDER_READ_TIMEOUT + 10 = 343 s",
        ),
    ],
)
def test_a_bad_operations_setting_stops_the_start(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


GUNICORN = (
    "import runpy; c = runpy.run_path('config/gunicorn.py'); "
    "print(c['forwarded_allow_ips'], c['control_socket_disable'])"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "127.0.0.1,::1 True"),  # only a proxy on the same host is believed
        ({"FORWARDED_ALLOW_IPS": "10.244.0.0/16"}, "10.244.0.0/16 True"),
    ],
)
def test_gunicorn_believes_forwarded_headers_from_the_ingress_only(env, expected):
    environ = {k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"}
    result = subprocess.run(
        [sys.executable, "-c", GUNICORN],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
