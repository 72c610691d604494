"""The message table's status tabs: each in the address bar, and the back button returns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from messaging.models import CampaignStatus, MessageStatus
from security.roles import VIEWERS
from tests.browser.conftest import sign_in
from tests.conftest import force_status, make_campaign, make_user
from tests.i18n.test_languages import _messages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_status_tab_is_in_the_url_and_back_returns_to_all(page):
    campaign = make_campaign(name="Tabs", start_in=timedelta(hours=-1))
    force_status(campaign.pk, CampaignStatus.FINISHED)  # no polling: a still table
    _messages(campaign, ["79160000001", "79160000002"], MessageStatus.SENT)
    _messages(campaign, ["79160000003"], MessageStatus.FAILED)
    make_user("vera", VIEWERS)
    sign_in(page, "vera", "pw-vera")
    page.goto(f"/campaigns/{campaign.pk}/")
    tabs = page.locator("#campaign-messages [data-status-tab]")
    failed = page.locator('#campaign-messages [data-status-tab="failed"]')
    expect(failed.locator("[data-tab-count]")).to_have_text("1")
    expect(page.locator('[data-status-tab=""] [data-tab-count]')).to_have_text("3")
    failed.click()
    page.wait_for_url(f"**/campaigns/{campaign.pk}/?status=failed")
    expect(page.locator("#campaign-messages tbody tr")).to_have_count(1)
    expect(page.locator('[data-status-tab="failed"]')).to_have_attribute("aria-current", "true")
    page.go_back()
    page.wait_for_url(f"**/campaigns/{campaign.pk}/")
    expect(page.locator("#campaign-messages tbody tr")).to_have_count(3)
    expect(tabs.first).to_have_attribute("aria-current", "true")
    # A tab's address is a link of its own: opened directly, it shows that tab.
    page.goto(f"/campaigns/{campaign.pk}/?status=sent")
    expect(page.locator("#campaign-messages tbody tr")).to_have_count(2)
