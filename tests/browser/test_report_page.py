"""The daily report page in Chromium: the report shows inside its frame, and nothing runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from messaging.models.counters import record_sends
from security.roles import MANAGERS
from tests.browser.conftest import sign_in
from tests.conftest import make_campaign, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'


def test_the_report_preview_shows_the_report_and_runs_no_stored_script(page):
    make_user("mara", MANAGERS)
    for name in (SCRIPT, IMG):
        campaign = make_campaign(name=name, start_in=timedelta(minutes=-30))
        record_sends(campaign.pk, sent=2, failed=1)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "mara", "pw-mara")

    page.goto("/reports/daily/")
    frame = page.frame_locator("iframe[title='HTML version of the report']")
    # The report is there, in the frame (it was blank when srcdoc was cut at the first quote).
    expect(frame.get_by_role("heading", name="Herald daily report for")).to_be_visible()
    table = frame.locator("#campaigns")
    expect(table).to_contain_text(SCRIPT)
    expect(table).to_contain_text(IMG)
    assert frame.locator("img, script").count() == 0
    # The frame is as tall as the email: the page scrolls, not a box inside it.
    iframe = page.locator("iframe[title='HTML version of the report']")
    page.wait_for_function(
        "f => f.contentDocument"
        " && f.clientHeight >= f.contentDocument.documentElement.scrollHeight",
        arg=iframe.element_handle(),
    )

    page.get_by_role("tab", name="Plain text").click()
    text = page.locator("pre.report-text")
    expect(text).to_be_visible()
    expect(text).to_contain_text(SCRIPT)
    expect(text).to_contain_text(IMG)
    assert page.locator("main img, main script").count() == 0
    assert dialogs == []
