"""Retention of the rows outside campaigns: "send a test" records and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from messaging.engine import housekeeping
from messaging.models import TestSend
from security.models import AuditEvent, AuditKind

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 3, 30, tzinfo=UTC)


@pytest.fixture
def retention(settings):
    settings.RETENTION_MESSAGES_DAYS = 90
    settings.RETENTION_AUDIT_DAYS = 365
    settings.RETENTION_BATCH_SIZE = 2  # several batches for a handful of rows
    return settings


def test_sends_older_than_the_messages_retention_go(retention):
    for days_ago in (200, 120, 91, 89, 1):
        test = TestSend.objects.create(phone="79161234567", text="Hello")
        TestSend.objects.filter(pk=test.pk).update(created_at=NOW - timedelta(days=days_ago))
    with time_machine.travel(NOW, tick=False):
        result = housekeeping.purge()
    assert result.deleted["test_sends"] == 3
    kept = sorted((NOW - t.created_at).days for t in TestSend.objects.all())
    assert kept == [1, 89]


def test_the_audit_trail_is_kept_a_year_by_default(retention):
    for days_ago in (800, 400, 366, 300, 0):
        AuditEvent.objects.create(
            kind=AuditKind.SIGN_IN_FAILED,
            username="mara",
            at=NOW - timedelta(days=days_ago),
        )
    with time_machine.travel(NOW, tick=False):
        result = housekeeping.purge()
    assert result.deleted["audit_events"] == 3
    assert sorted((NOW - e.at).days for e in AuditEvent.objects.all()) == [0, 300]


def test_zero_keeps_tests_and_audit_forever(retention):
    retention.RETENTION_MESSAGES_DAYS = 0
    retention.RETENTION_AUDIT_DAYS = 0
    test = TestSend.objects.create(phone="79161234567", text="Hello")
    TestSend.objects.filter(pk=test.pk).update(created_at=NOW - timedelta(days=5000))
    AuditEvent.objects.create(kind=AuditKind.SIGN_IN, at=NOW - timedelta(days=5000))
    with time_machine.travel(NOW, tick=False):
        result = housekeeping.purge()
    assert result.deleted["test_sends"] == result.deleted["audit_events"] == 0
    assert TestSend.objects.count() == AuditEvent.objects.count() == 1
