from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django_q.models import OrmQ, Schedule

from messaging import tasks
from messaging.models import DailyReportRun
from messaging.models.counters import record_sends
from messaging.reporting import reports
from tests.support.ops_helpers import campaign_with_messages
from tests.support.smtp import body

# 08:00 UTC is when reports are due; tests set the clock around it.
REPORT_SETTINGS = {
    "REPORT_TIME": datetime.strptime("08:00", "%H:%M").time(),
    "REPORT_TIMEZONE": "UTC",
    "REPORT_RECIPIENTS": ["ops@example.com", "lead@example.com"],
    "REPORT_MAX_DELAY_MINUTES": 180,
}
DAY = date(2026, 11, 20)
DUE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

REPORT_FUNC = "messaging.tasks.send_daily_report"

pytestmark = pytest.mark.usefixtures("report_settings")


@pytest.fixture
def report_settings():
    with override_settings(**REPORT_SETTINGS):
        yield


@pytest.fixture
def report_schedule(db):
    schedule, _ = Schedule.objects.update_or_create(
        name=reports.SCHEDULE_NAME,
        defaults={"func": REPORT_FUNC, "schedule_type": Schedule.DAILY, "repeats": -1},
    )
    return schedule


def seed_known_campaigns():
    """Two campaigns active in the 24 h before DUE, one that ended long before."""
    first = campaign_with_messages(
        name="Spring sale",
        start_at=DUE - timedelta(hours=5),
        end_at=DUE + timedelta(hours=5),
        statuses={"sent": 5, "failed": 2, "pending": 3},
    )
    second = campaign_with_messages(
        name="Reminder",
        start_at=DUE - timedelta(hours=30),
        end_at=DUE - timedelta(hours=2),
        statuses={"sent": 1, "expired": 4, "cancelled": 2},
        status="finished",
    )
    campaign_with_messages(
        name="Old news",
        start_at=DUE - timedelta(days=5),
        end_at=DUE - timedelta(days=4),
        statuses={"sent": 9},
        status="finished",
    )
    record_sends(first.pk, sent=4, failed=1, at=DUE - timedelta(hours=1))
    record_sends(first.pk, sent=1, at=DUE - timedelta(hours=30))  # before the period
    return first, second


def html_figure(html: str, attribute: str, value: str) -> str:
    match = re.search(rf'data-{attribute}="{value}">([^<]*)<', html)
    assert match, f"no data-{attribute}={value} in the HTML body"
    return match.group(1)


@pytest.mark.django_db
def test_daily_report_is_delivered_over_smtp_with_the_figures_in_both_parts(smtp_inbox):
    first, second = seed_known_campaigns()

    assert reports.send_daily_report(DAY, now=DUE + timedelta(minutes=1))

    [message] = smtp_inbox.messages
    assert smtp_inbox.envelopes[0][1] == ["ops@example.com", "lead@example.com"]
    assert message["Subject"] == (
        "Herald daily report 2026-11-20: 2 campaigns, 6 sent, 2 failed (needs attention)"
    )
    text = body(message, "text/plain")
    assert "Messages: 17" in text
    for line in ("sent: 6", "failed: 2", "expired: 4", "cancelled: 2", "pending: 3"):
        assert f"  {line}\n" in text
    assert "Success rate: 50.0%" in text  # 6 sent of 6 + 2 failed + 4 expired
    assert "In the period: 4 sent, 1 failed" in text
    assert f"#{first.pk} Spring sale [running]" in text
    assert "success rate 71.4%" in text and "success rate 20.0%" in text
    assert f"- Spring sale (#{first.pk}): 2 failed." in text
    assert f"- Reminder (#{second.pk}): 4 expired unsent." in text
    assert "Old news" not in text

    html = body(message, "text/html")
    assert html_figure(html, "status", "total") == "17"
    assert html_figure(html, "status", "sent") == "6"
    assert html_figure(html, "status", "expired") == "4"
    assert html_figure(html, "figure", "success-rate") == "50.0%"
    assert html_figure(html, "figure", "sent-in-period") == "4"
    assert f'data-campaign="{first.pk}"' in html and f'data-campaign="{second.pk}"' in html
    assert "Old news" not in html
    assert "2 failed." in html


@pytest.mark.django_db
def test_report_figures_are_data_too():
    seed_known_campaigns()
    report = reports.build_daily_report(DAY, now=DUE + timedelta(hours=3))
    assert report.period_end == DUE
    assert report.totals == {
        "pending": 3,
        "sending": 0,
        "sent": 6,
        "failed": 2,
        "expired": 4,
        "cancelled": 2,
    }
    assert [c.name for c in report.campaigns] == ["Reminder", "Spring sale"]
    assert report.success_rate == 0.5
    assert report.subject.startswith("Herald daily report 2026-11-20")
    assert "Spring sale" in report.text and "Spring sale" in report.html


@pytest.mark.django_db
def test_a_preview_before_the_report_is_due_covers_the_last_24_hours_up_to_now():
    seed_known_campaigns()
    now = DUE - timedelta(hours=1)
    report = reports.build_daily_report(DAY, now=now)
    assert report.period_end == now
    assert report.period_start == now - timedelta(hours=24)


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_the_same_day_send_one_email(smtp_inbox):
    now = DUE + timedelta(minutes=1)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(reports.send_scheduled_report(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(smtp_inbox.messages) == 1
    assert sorted(results)[-1] == "sent" and results.count("sent") == 1
    run = DailyReportRun.objects.get()
    assert run.day == DAY and run.sent_at is not None


@pytest.mark.django_db
def test_the_same_day_is_not_sent_twice(smtp_inbox):
    assert reports.send_scheduled_report(now=DUE + timedelta(minutes=1)) == "sent"
    assert reports.send_scheduled_report(now=DUE + timedelta(minutes=40)) == "already sent"
    assert len(smtp_inbox.messages) == 1


@pytest.mark.django_db
def test_missed_days_do_not_send_a_backlog(smtp_inbox, report_schedule, monkeypatch):
    from django_q import scheduler as q_scheduler
    from django_q.brokers import get_broker

    # The scheduler closes "old" connections, which would end the test's transaction.
    monkeypatch.setattr(q_scheduler, "close_old_django_connections", lambda: None)
    # Workers were down for three days: the schedule still points at the first missed run.
    report_schedule.next_run = DUE - timedelta(days=3)
    report_schedule.save()
    back_at = DUE + timedelta(minutes=45)
    with time_machine.travel(back_at, tick=False):
        q_scheduler.scheduler(broker=get_broker())
        q_scheduler.scheduler(broker=get_broker())
        queued = [row for row in OrmQ.objects.all() if row.task["func"] == REPORT_FUNC]
        # catch_up=False: one run for the whole outage, not one per missed day.
        assert len(queued) == 1
        task = queued[0].task
        assert tasks.send_daily_report(*task["args"], **task["kwargs"]) == "sent"

    assert len(smtp_inbox.messages) == 1
    assert "2026-11-20" in smtp_inbox.messages[0]["Subject"]
    assert list(DailyReportRun.objects.values_list("day", flat=True)) == [DAY]
    report_schedule.refresh_from_db()
    assert report_schedule.next_run == DUE + timedelta(days=1)


@pytest.mark.django_db
def test_a_run_far_later_than_due_skips_the_day(smtp_inbox, report_schedule):
    late = DUE + timedelta(minutes=181)
    assert reports.send_scheduled_report(now=late) == "skipped"
    assert smtp_inbox.messages == []
    assert not DailyReportRun.objects.exists()
    report_schedule.refresh_from_db()
    assert report_schedule.next_run == DUE + timedelta(days=1)


@pytest.mark.django_db
def test_a_failed_send_releases_the_day_and_tries_again_soon(report_schedule):
    # Nothing listens on port 1: the SMTP connection is refused.
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=1,
        EMAIL_TIMEOUT=2,
    ):
        now = DUE + timedelta(minutes=5)
        with pytest.raises(OSError):
            reports.send_scheduled_report(now=now)
    assert not DailyReportRun.objects.exists()
    report_schedule.refresh_from_db()
    assert report_schedule.next_run == now + reports.RETRY_AFTER


@pytest.mark.django_db
def test_next_report_time_follows_daylight_saving_in_the_report_time_zone(report_schedule):
    # TIME_ZONE is UTC; Berlin leaves summer time on 2026-10-25.
    with override_settings(REPORT_TIMEZONE="Europe/Berlin"):
        before = datetime(2026, 10, 24, 6, 30, tzinfo=UTC)  # 08:30 in Berlin (summer time)
        assert reports.next_due(before) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
        reports.send_scheduled_report(now=before)
        report_schedule.refresh_from_db()
        assert report_schedule.next_run == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
        assert reports.latest_due_day(datetime(2026, 10, 25, 6, 30, tzinfo=UTC)) == date(
            2026, 10, 24
        )


@pytest.mark.django_db
def test_migrate_made_the_schedules_what_tasks_declares():
    report = Schedule.objects.get(name=reports.SCHEDULE_NAME)
    assert report.func == REPORT_FUNC and report.schedule_type == Schedule.DAILY
    heartbeat = Schedule.objects.get(name="herald: worker heartbeat")
    assert heartbeat.func == "messaging.tasks.heartbeat"
    assert heartbeat.schedule_type == Schedule.MINUTES and heartbeat.minutes == 1
    for recurring in tasks.RECURRING:
        assert Schedule.objects.filter(name=recurring.name, func=recurring.func).count() == 1


@pytest.mark.django_db
def test_sync_moves_a_schedule_to_what_is_declared_and_repairs_an_old_func():
    Schedule.objects.filter(name="herald: worker heartbeat").update(
        func="messaging.health.heartbeat", minutes=5
    )
    Schedule.objects.filter(name=reports.SCHEDULE_NAME).update(
        next_run=datetime(2026, 10, 24, 11, 11, tzinfo=UTC)
    )
    tasks.sync_schedules(now=datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    heartbeat = Schedule.objects.get(name="herald: worker heartbeat")
    assert (heartbeat.func, heartbeat.minutes) == ("messaging.tasks.heartbeat", 1)
    report = Schedule.objects.get(name=reports.SCHEDULE_NAME)
    assert report.next_run == reports.next_due(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))


def test_every_declared_schedule_runs_a_function_that_exists():
    """The schedules store a dotted path: a renamed task would only fail on a worker.
    ("messaging.health.heartbeat", written by migration 0003, is repaired by the sync above.)"""
    from django.utils.module_loading import import_string

    for recurring in tasks.RECURRING:
        assert callable(import_string(recurring.func)), recurring.func


@pytest.mark.django_db
def test_send_daily_report_command_sends_to_the_given_addresses(smtp_inbox):
    seed_known_campaigns()
    call_command(
        "send_daily_report", "--date", "2026-11-20", "--to", "a@example.com, b@example.com"
    )
    [message] = smtp_inbox.messages
    assert smtp_inbox.envelopes[0][1] == ["a@example.com", "b@example.com"]
    assert "2026-11-20" in message["Subject"]
    # A send by hand does not use up the day's scheduled report.
    assert not DailyReportRun.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--date", "2026-13-01"], "--date must be a date YYYY-MM-DD, got '2026-13-01'"),
        (["--date", "yesterday"], "--date must be a date YYYY-MM-DD"),
        (["--to", "nobody"], "--to must list email addresses"),
    ],
)
def test_send_daily_report_command_refuses_bad_arguments(args, error):
    with pytest.raises(CommandError, match=re.escape(error)):
        call_command("send_daily_report", *args)


@pytest.mark.django_db
def test_send_daily_report_command_without_recipients_says_so():
    with (
        override_settings(REPORT_RECIPIENTS=[]),
        pytest.raises(CommandError, match="No recipients"),
    ):
        call_command("send_daily_report")


@pytest.mark.django_db
def test_report_says_when_the_provider_rejects_the_credentials():
    from messaging.models import ProviderState

    ProviderState.objects.update_or_create(
        pk=1, defaults={"credentials_rejected": True, "credentials_detail": "401 bad token"}
    )
    report = reports.build_daily_report(DAY, now=DUE)
    assert report.attention[0].startswith("The provider rejects Herald's credentials")
    assert "(needs attention)" in report.subject
    assert "rejects Herald&#x27;s credentials" in report.html
    assert "NEEDS ATTENTION" in report.text


RACE_WORKER = """
import os, sys, time
from datetime import datetime
import django
django.setup()
from messaging.reporting import reports
go = sys.argv[1]
open(f"{go}.ready.{os.getpid()}", "w").close()
while not os.path.exists(go):  # start together once both are set up
    time.sleep(0.005)
print(reports.send_scheduled_report(now=datetime.fromisoformat(sys.argv[2])))
"""


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_racing_for_the_same_day_send_one_email(smtp_inbox, tmp_path):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(settings.EMAIL_PORT),
        "REPORT_TIME": "08:00",
        "REPORT_TIMEZONE": "UTC",
        "REPORT_RECIPIENTS": "ops@example.com",
    }
    if db["ENGINE"].endswith("sqlite3"):
        env["SQLITE_PATH"] = db["NAME"]
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
    go = tmp_path / "go"
    now = (DUE + timedelta(minutes=2)).isoformat()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_WORKER, str(go), now],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.ready.*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    results = sorted(worker.communicate(timeout=60)[0].strip() for worker in workers)

    # The loser either lost the insert or saw the winner's row first.
    assert results[1] == "sent" and results[0] in ("not sent", "already sent")
    assert len(smtp_inbox.messages) == 1
    assert DailyReportRun.objects.get().day == DAY
