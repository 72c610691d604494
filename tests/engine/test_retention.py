"""Rule 14, retention: old rows go in bounded batches; campaign totals survive."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.models import Schedule, Task

from messaging import tasks
from messaging.engine import housekeeping
from messaging.models import (
    Campaign,
    CampaignCounts,
    DeliveryAttempt,
    Message,
    PendingImport,
    RejectedRows,
    SendBucket,
)
from messaging.models.counters import record_sends
from messaging.reporting import reports
from tests.conftest import force_status, make_user
from tests.support.ops_helpers import campaign_with_messages

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 3, 30, tzinfo=UTC)
OLD = NOW - timedelta(days=120)  # past the 90-day default
RECENT = NOW - timedelta(days=10)


@pytest.fixture
def retention(settings):
    settings.RETENTION_ATTEMPTS_DAYS = 90
    settings.RETENTION_MESSAGES_DAYS = 90
    settings.RETENTION_SEND_BUCKETS_DAYS = 90
    settings.RETENTION_TASK_RESULTS_DAYS = 30
    settings.RETENTION_SESSIONS_DAYS = 7
    settings.RETENTION_BATCH_SIZE = 1000
    settings.RETENTION_MAX_SECONDS = 120
    return settings


def closed_campaign(name: str, ended: datetime, statuses: dict[str, int], status="finished"):
    campaign = campaign_with_messages(
        name=name,
        start_at=ended - timedelta(hours=6),
        end_at=ended,
        statuses=statuses,
        status=status,
    )
    Campaign.objects.filter(pk=campaign.pk).update(finished_at=ended)
    for message in Message.objects.filter(campaign=campaign):
        DeliveryAttempt.objects.create(
            message=message, started_at=ended - timedelta(hours=1), outcome="ok", http_status=200
        )
    record_sends(campaign.pk, sent=statuses.get("sent", 0), at=ended - timedelta(hours=1))
    return campaign


def seed():
    first = closed_campaign("Spring sale", OLD, {"sent": 7, "failed": 2, "expired": 1})
    second = closed_campaign(
        "Recall", OLD - timedelta(days=3), {"sent": 3, "cancelled": 4}, status="cancelled"
    )
    recent = closed_campaign("Winter", RECENT, {"sent": 5, "failed": 1})
    return first, second, recent


def counts_of(campaign: Campaign) -> dict[str, int]:
    return CampaignCounts.objects.get(campaign=campaign).as_dict()


def test_old_campaigns_lose_their_rows_and_keep_their_totals(retention, manager_api, as_manager):
    first, second, recent = seed()
    before = {c.pk: counts_of(c) for c in (first, second, recent)}
    stats_before = manager_api.get("/api/stats/").json()
    old_day = OLD.date()
    report_before = reports.build_daily_report(old_day, now=NOW)

    with time_machine.travel(NOW, tick=False):
        result = housekeeping.purge()

    # What went: every message of the two old campaigns, their attempts and buckets.
    assert result.finished
    assert result.deleted["messages"] == 17
    assert result.deleted["delivery_attempts"] == 17
    assert result.deleted["send_buckets"] == 2
    assert not Message.objects.filter(campaign__in=[first, second]).exists()
    assert not DeliveryAttempt.objects.filter(message__campaign__in=[first, second]).exists()
    assert not SendBucket.objects.filter(campaign__in=[first, second]).exists()
    # What stayed: the recent campaign whole, and the old campaigns themselves.
    assert Message.objects.filter(campaign=recent).count() == 6
    assert DeliveryAttempt.objects.filter(message__campaign=recent).count() == 6
    assert SendBucket.objects.filter(campaign=recent).count() == 1
    assert Campaign.objects.filter(pk__in=[first.pk, second.pk]).count() == 2

    # Totals survive: the counters, /api/stats/, campaign stats, the report, the UI.
    assert {c.pk: counts_of(c) for c in (first, second, recent)} == before
    assert manager_api.get("/api/stats/").json() == stats_before
    first_stats = manager_api.get(f"/api/campaigns/{first.pk}/stats/").json()
    assert first_stats["counts"] == before[first.pk] and first_stats["total"] == 10
    report_after = reports.build_daily_report(old_day, now=NOW)
    assert report_after.totals == report_before.totals
    assert {line.name: line.counts for line in report_after.campaigns} == {
        "Spring sale": before[first.pk]
    }
    assert "Spring sale" in report_after.text and "70.0%" in report_after.text
    page = as_manager.get("/campaigns/").content.decode()
    # A finished campaign says what became of its messages (no "10 of 10 done").
    assert re.search(r"7 sent, 2 failed", page)
    assert re.search(r"3 sent, 4 cancelled", page)


def test_retention_deletes_in_bounded_batches(retention):
    seed()
    with (
        time_machine.travel(NOW, tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        result = housekeeping.purge(batch_size=3)

    assert result.deleted["messages"] == 17
    # 10 messages of one campaign and 7 of the other, 3 at a time.
    message_batches = [n for kind, n in result.batches if kind == "messages"]
    assert message_batches == [3, 3, 3, 1, 3, 3, 1]
    assert all(n <= 3 for _, n in result.batches)
    # Every DELETE names its rows (ids or an id range), never a whole-table condition.
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert deletes
    for sql in deletes:
        assert re.search(r'"(id|message_id|session_key)" IN \(|"id" >= ', sql), sql
        ids = re.search(r"IN \(([^)]*)\)", sql)
        if ids:
            assert len(ids.group(1).split(",")) <= 3, sql


def test_old_attempts_of_a_still_open_campaign_go_by_age(retention):
    campaign = campaign_with_messages(
        name="Long", start_at=OLD, end_at=NOW + timedelta(days=1), statuses={"pending": 2}
    )
    message = Message.objects.filter(campaign=campaign).first()
    for days in (200, 150, 100, 5):
        DeliveryAttempt.objects.create(
            message=message, started_at=NOW - timedelta(days=days), outcome="timeout"
        )
    with time_machine.travel(NOW, tick=False):
        result = housekeeping.purge(batch_size=2)
    assert result.deleted["delivery_attempts"] == 3
    assert list(DeliveryAttempt.objects.values_list("started_at", flat=True)) == [
        NOW - timedelta(days=5)
    ]
    assert Message.objects.filter(campaign=campaign).count() == 2  # not closed: kept


def test_task_results_failures_included_and_expired_sessions_go(retention):
    for i, (age, success) in enumerate([(40, False), (40, True), (5, False)]):
        Task.objects.create(
            id=f"task{i}",
            name=f"task{i}",
            func="messaging.tasks.tick",
            started=NOW - timedelta(days=age),
            stopped=NOW - timedelta(days=age),
            success=success,
        )
    for expired_days_ago in (30, 2, -1):
        store = SessionStore()
        store.create()
        Session.objects.filter(session_key=store.session_key).update(
            expire_date=NOW - timedelta(days=expired_days_ago)
        )
    with time_machine.travel(NOW, tick=False):
        result = housekeeping.purge()
    assert result.deleted["task_results"] == 2
    assert list(Task.objects.values_list("id", flat=True)) == ["task2"]
    assert result.deleted["sessions"] == 1
    assert Session.objects.count() == 2


def test_zero_keeps_everything_forever(retention):
    for name in (
        "RETENTION_ATTEMPTS_DAYS",
        "RETENTION_MESSAGES_DAYS",
        "RETENTION_SEND_BUCKETS_DAYS",
        "RETENTION_TASK_RESULTS_DAYS",
        "RETENTION_SESSIONS_DAYS",
    ):
        setattr(retention, name, 0)
    seed()
    with time_machine.travel(NOW, tick=False):
        result = housekeeping.purge()
    assert sum(result.deleted.values()) == 0
    assert Message.objects.count() == 23


def test_a_campaign_reopened_meanwhile_is_left_alone(retention):
    first, _second, _recent = seed()
    force_status(first.pk, "running", finished_at=None)
    with time_machine.travel(NOW, tick=False):
        housekeeping.purge()
    assert Message.objects.filter(campaign=first).count() == 10


def test_a_run_out_of_time_queues_its_continuation(retention, monkeypatch):
    from django_q.models import OrmQ

    seed()
    retention.RETENTION_MAX_SECONDS = 0  # time is up before the first batch
    with time_machine.travel(NOW, tick=False):
        summary = tasks.retention()
    assert summary.startswith("messages=0 ")
    assert OrmQ.objects.count() == 1
    assert Message.objects.count() == 23


def test_a_worker_asked_to_stop_ends_the_run_at_once_and_queues_the_rest(retention, monkeypatch):
    """A stopping worker must exit within 30 s: retention does not use its two minutes."""
    from django_q.models import OrmQ

    from messaging.engine import shutdown

    seed()
    monkeypatch.setattr(shutdown, "requested", lambda: True)
    with time_machine.travel(NOW, tick=False):
        summary = tasks.retention()
    assert summary.startswith("messages=0 ")
    assert OrmQ.objects.count() == 1  # the continuation, for a worker that runs
    assert Message.objects.count() == 23


def test_what_was_removed_is_logged_and_counted(retention, caplog):
    from prometheus_client import REGISTRY

    def removed(kind: str) -> float:
        return REGISTRY.get_sample_value("herald_retention_deleted_total", {"kind": kind}) or 0

    seed()
    before = removed("messages")
    with caplog.at_level("INFO", logger="messaging.engine.housekeeping"), time_machine.travel(NOW):
        housekeeping.purge()
    assert removed("messages") - before == 17
    assert "retention: removed messages=17 delivery_attempts=17 send_buckets=2" in caplog.text
    deleted = [
        r for r in caplog.records if r.getMessage() == "retention: messages deleted count=10"
    ]
    assert deleted and all(isinstance(r.campaign_id, int) for r in deleted)


def test_migrate_leaves_the_daily_retention_schedule():
    schedule = Schedule.objects.get(name="herald: retention")
    assert schedule.func == "messaging.tasks.retention"
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.repeats == -1


def test_uploads_left_over_a_day_go_even_if_nobody_uploads_again(retention):
    user = make_user("importer", None)
    for age in (timedelta(days=2), timedelta(hours=1)):
        pending = PendingImport.objects.create(
            user=user, file_name="clients.xlsx", content=b"x", skip_invalid_rows=False
        )
        rejected = RejectedRows.objects.create(user=user, rows=1, content="phone\n")
        PendingImport.objects.filter(pk=pending.pk).update(created_at=NOW - age)
        RejectedRows.objects.filter(pk=rejected.pk).update(created_at=NOW - age)
    with time_machine.travel(NOW, tick=False):
        result = housekeeping.purge()
    assert result.deleted["uploads"] == 2
    assert PendingImport.objects.count() == 1
    assert RejectedRows.objects.count() == 1
