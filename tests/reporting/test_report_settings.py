"""Report recipients and send time, set by Managers on the report page: stored in the
database (the environment until someone saves them), read by the scheduled report."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django_q.models import OrmQ, Schedule

from messaging import tasks
from messaging.models import ReportSettings
from messaging.reporting import reports
from tests.support.smtp import body

pytestmark = pytest.mark.django_db

ENVIRONMENT = {
    "REPORT_TIME": time(8, 0),
    "REPORT_TIMEZONE": "UTC",
    "REPORT_RECIPIENTS": ["env@example.com"],
    "REPORT_MAX_DELAY_MINUTES": 180,
    "EMAIL_HOST": "127.0.0.1",
}
NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
REPORT_FUNC = "messaging.tasks.send_daily_report"


@pytest.fixture
def schedule():
    item, _ = Schedule.objects.update_or_create(
        name=reports.SCHEDULE_NAME,
        defaults={"func": REPORT_FUNC, "schedule_type": Schedule.DAILY, "repeats": -1},
    )
    return item


def save(browser, recipients: str, send_time: str):
    return browser.post(
        reverse("dashboard:report"),
        {"action": "settings", "recipients": recipients, "send_time": send_time},
    )


def test_the_next_scheduled_report_goes_to_the_saved_recipients_at_the_saved_time(
    as_manager, smtp_inbox, schedule, monkeypatch
):
    from django_q import scheduler as q_scheduler
    from django_q.brokers import get_broker

    monkeypatch.setattr(q_scheduler, "close_old_django_connections", lambda: None)
    with override_settings(**ENVIRONMENT), time_machine.travel(NOW, tick=False):
        page = as_manager.get(reverse("dashboard:report")).content.decode()
        assert "env@example.com" in page  # the environment, until saved
        response = save(as_manager, "boss@example.com,\nteam@example.com", "06:30")
        assert response.status_code == 302
        stored = ReportSettings.objects.get()
        assert stored.recipient_list == ["boss@example.com", "team@example.com"]
        assert stored.send_time == time(6, 30)
        schedule.refresh_from_db()
        assert schedule.next_run == NOW.replace(minute=30)  # moved to today's 06:30
        page = as_manager.get(reverse("dashboard:report")).content.decode()
        assert "boss@example.com, team@example.com" in page
        assert 'data-report="send-now"' in page
    # django-q2's scheduler, when the saved time comes: the report goes to the saved list.
    with (
        override_settings(**ENVIRONMENT),
        time_machine.travel(NOW + timedelta(minutes=31), tick=False),
    ):
        q_scheduler.scheduler(broker=get_broker())
        queued = [row for row in OrmQ.objects.all() if row.task["func"] == REPORT_FUNC]
        assert len(queued) == 1
        task = queued[0].task
        assert tasks.send_daily_report(*task["args"], **task["kwargs"]) == "sent"
    assert [rcpt for _, rcpt in smtp_inbox.envelopes] == [["boss@example.com", "team@example.com"]]
    assert "Herald daily report" in body(smtp_inbox.messages[0], "text/plain")
    schedule.refresh_from_db()
    assert schedule.next_run == NOW.replace(minute=30) + timedelta(days=1)


def test_wrong_addresses_are_a_form_error_and_nothing_is_saved(as_manager):
    with override_settings(**ENVIRONMENT):
        response = save(as_manager, "boss@example.com, not-an-address", "07:00")
        assert response.status_code == 400
        assert "Not an email address: not-an-address." in response.content.decode()
        response = save(as_manager, "boss@example.com", "25:99")
        assert response.status_code == 400
    assert not ReportSettings.objects.exists()
    assert reports.report_recipients() == []  # the test settings' environment


def test_send_now_is_offered_only_when_someone_would_receive_it(as_manager):
    with override_settings(**{**ENVIRONMENT, "REPORT_RECIPIENTS": []}):
        page = as_manager.get(reverse("dashboard:report")).content.decode()
        assert 'data-report="send-now"' not in page
        assert "Nobody receives it yet." in page
        save(as_manager, "", "08:00")  # saved empty: still nobody
        assert (
            'data-report="send-now"'
            not in as_manager.get(reverse("dashboard:report")).content.decode()
        )
        save(as_manager, "boss@example.com", "08:00")
        assert (
            'data-report="send-now"' in as_manager.get(reverse("dashboard:report")).content.decode()
        )


def test_saved_empty_recipients_override_the_environment(as_manager, mailoutbox):
    with override_settings(**ENVIRONMENT):
        save(as_manager, "", "08:00")
        assert reports.report_recipients() == []
        assert reports.send_daily_report() is False
    assert mailoutbox == []


def test_viewers_cannot_change_the_settings(as_viewer):
    with override_settings(**ENVIRONMENT):
        assert save(as_viewer, "me@example.com", "01:00").status_code == 403
        page = as_viewer.get(reverse("dashboard:report")).content.decode()
    assert 'name="send_time"' not in page
    assert not ReportSettings.objects.exists()
