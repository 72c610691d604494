"""Duplicate a campaign in the browser: the copy keeps everything but the times."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from messaging.models import Campaign, Message
from messaging.models.counters import move_messages
from security.roles import MANAGERS
from tests.browser.conftest import sign_in
from tests.conftest import make_campaign, make_user
from tests.engine.conftest import make_clients, running_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_duplicate_makes_a_draft(page):
    source = make_campaign(name="Black Friday", text="Everything -30%", tags=["vip"])
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto(f"/campaigns/{source.pk}/")
    page.get_by_role("link", name="Duplicate").click()
    expect(page.get_by_label("Name (optional)")).to_have_value("Black Friday (copy)")
    expect(page.get_by_label("Text")).to_have_value("Everything -30%")
    expect(page.get_by_label("Tags")).to_have_value("vip")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft “Black Friday (copy)” saved.")).to_be_visible()
    expect(page.locator('[data-live="status"]')).to_have_text("Draft")
    copy = Campaign.objects.exclude(pk=source.pk).get()
    assert (copy.text, copy.tags, copy.status) == ("Everything -30%", ["vip"], "draft")
    assert copy.start_at != source.start_at


def test_campaign_list_progress_follows_the_sending(page):
    make_clients(3)
    campaign = running_campaign(name="Live one")
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/campaigns/")
    summary = page.locator("#campaigns-table [data-progress=summary]").first
    expect(summary).to_have_text("0 of 3 done · 0 sent")
    sent = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True)[:2])
    move_messages(Message.objects.filter(pk__in=sent), ["pending"], "sent")
    # No reload: the table refreshes itself while an active campaign is on the page.
    page.evaluate("window.notReloaded = true")
    expect(summary).to_have_text("2 of 3 done · 2 sent")
    assert page.evaluate("window.notReloaded") is True
