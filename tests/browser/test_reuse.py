"""Duplicate a campaign in the browser: the copy keeps everything but the times."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from messaging.models import Campaign
from messaging.roles import MANAGERS
from tests.browser.conftest import sign_in
from tests.conftest import make_campaign, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_duplicate_campaign(page):
    source = make_campaign(name="Black Friday", text="Everything -30%", tags=["vip"])
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto(f"/campaigns/{source.pk}/")
    page.get_by_role("link", name="Duplicate").click()
    expect(page.get_by_label("Name (optional)")).to_have_value("Black Friday (copy)")
    expect(page.get_by_label("Text")).to_have_value("Everything -30%")
    expect(page.get_by_label("Tags")).to_have_value("vip")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_text("Campaign “Black Friday (copy)” created.")).to_be_visible()
    copy = Campaign.objects.exclude(pk=source.pk).get()
    assert (copy.text, copy.tags) == ("Everything -30%", ["vip"])
    assert copy.start_at != source.start_at
