"""The daily report page: an escaped preview, the framed HTML body, and "send now"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse

from messaging.models.counters import record_sends
from messaging.reporting import reports
from tests.conftest import make_campaign
from tests.support.smtp import body

pytestmark = pytest.mark.django_db

HOSTILE_NAMES = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>']


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_campaign_name_is_escaped_in_every_part_of_the_report_page(as_manager, name):
    """The audit's stored XSS: the plain-text tab printed the name unescaped."""
    campaign = make_campaign(name=name, start_in=timedelta(minutes=-30))
    record_sends(campaign.pk, sent=1)
    page = as_manager.get(reverse("dashboard:report")).content.decode()
    assert name not in page
    assert "&lt;" in page and f"#{campaign.pk} " in page  # the text tab lists it, escaped
    # The HTML body is not in the page at all: the page frames it from its own URL.
    assert "srcdoc" not in page
    assert f'src="{reverse("dashboard:report-html")}"' in page

    framed = as_manager.get(reverse("dashboard:report-html"))
    assert framed.status_code == 200
    assert name not in framed.content.decode()
    policy = framed["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy  # falls back to default-src 'none': nothing runs
    assert framed["X-Frame-Options"] == "SAMEORIGIN"


def test_report_page_previews_the_real_daily_report(as_viewer):
    campaign = make_campaign(name="Report me", start_in=timedelta(minutes=-30))
    record_sends(campaign.pk, sent=1)
    html = as_viewer.get(reverse("dashboard:report")).content.decode()
    assert "Subject:" in html
    assert "Report me" in html
    assert "Send now" not in html  # Viewers preview only
    framed = as_viewer.get(reverse("dashboard:report-html")).content.decode()
    assert "<td>Report me</td>" in framed


def test_report_html_needs_a_role(client, django_user_model):
    url = reverse("dashboard:report-html")
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(django_user_model.objects.create_user("norole", password="x"))
    assert client.get(url).status_code == 403


def test_report_send_failure_is_a_message_not_a_500(as_manager, monkeypatch, settings):
    settings.EMAIL_HOST = "smtp.example.com"

    def fail(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(reports, "send_daily_report", fail)
    response = as_manager.post(reverse("dashboard:report"), follow=True)
    assert response.status_code == 200
    assert "could not be sent (ConnectionRefusedError)" in response.content.decode()


def test_send_now_emails_the_report_and_says_through_which_server(as_manager, smtp_inbox):
    # override_settings nested inside smtp_inbox's (pytest-django's `settings` would
    # restore smtp_inbox's overrides after it ends).
    with override_settings(REPORT_RECIPIENTS=["boss@example.com"]):
        response = as_manager.post(reverse("dashboard:report"), follow=True)
    assert (
        "The daily report was sent to boss@example.com, by email through 127.0.0.1."
        in response.content.decode()
    )
    assert [envelope[1] for envelope in smtp_inbox.envelopes] == [["boss@example.com"]]
    assert "Herald daily report" in body(smtp_inbox.messages[0], "text/plain")


def test_send_now_without_smtp_says_it_went_to_the_console_when_debugging(
    as_manager, settings, mailoutbox
):
    settings.DEBUG = True
    settings.EMAIL_HOST = ""
    settings.REPORT_RECIPIENTS = ["boss@example.com"]
    page = as_manager.get(reverse("dashboard:report")).content.decode()
    assert "No mail server is set up yet, so it is not emailed." in page
    assert "EMAIL_HOST is empty" in page  # a Manager's detail
    response = as_manager.post(reverse("dashboard:report"), follow=True)
    assert "only to the server&#x27;s console: no EMAIL_HOST is set" in response.content.decode()
    assert len(mailoutbox) == 1


def test_send_now_without_smtp_is_refused_in_production(as_manager, settings, mailoutbox):
    settings.DEBUG = False
    settings.EMAIL_HOST = ""
    settings.REPORT_RECIPIENTS = ["boss@example.com"]
    response = as_manager.post(reverse("dashboard:report"), follow=True)
    assert "Not sent: no SMTP server is configured (EMAIL_HOST)" in response.content.decode()
    assert mailoutbox == []


def test_send_now_without_recipients_says_so(as_manager, settings, mailoutbox):
    settings.EMAIL_HOST = "smtp.example.com"
    settings.REPORT_RECIPIENTS = []
    response = as_manager.post(reverse("dashboard:report"), follow=True)
    assert "nobody receives the report yet" in response.content.decode()
    assert mailoutbox == []


def test_viewers_cannot_send_the_report(as_viewer, settings, mailoutbox):
    settings.REPORT_RECIPIENTS = ["boss@example.com"]
    assert as_viewer.post(reverse("dashboard:report")).status_code == 403
    assert mailoutbox == []


def test_after_the_report_time_the_preview_shows_the_next_report_so_far(as_viewer, settings):
    """At 09:00 with REPORT_TIME 08:00, today's report is already due (it ended at 08:00); the
    page previews the next one: the 24 hours up to now, with a campaign started at 08:30."""
    settings.REPORT_TIMEZONE = "UTC"
    settings.REPORT_TIME = time(8, 0)
    nine = datetime.combine(date.today(), time(9, 0), tzinfo=UTC)
    with time_machine.travel(nine - timedelta(minutes=30), tick=False):
        make_campaign(name="Started at half past eight", start_in=timedelta(minutes=1))
    with time_machine.travel(nine, tick=False):
        framed = as_viewer.get(reverse("dashboard:report-html")).content.decode()
    assert "Started at half past eight" in framed
