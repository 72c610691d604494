"""A 390 px phone: no sideways scroll, message and client tables as cards, folded filters."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messaging.models import AttemptOutcome, DeliveryAttempt, Message
from messaging.models.counters import move_messages
from messaging.phones import display_phone
from messaging.roles import MANAGERS
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import make_user
from tests.engine.conftest import make_clients, running_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def test_campaign_page_at_390_px_has_no_sideways_scroll(phone_page):
    page = phone_page
    make_clients(6)
    campaign = running_campaign(
        name="Black Friday for the whole of Moscow and the region",
        text="Everything -30% today only! " * 4,
    )
    first = Message.objects.filter(campaign=campaign).order_by("id").first()
    DeliveryAttempt.objects.create(
        message=first,
        started_at=timezone.now(),
        http_status=404,
        outcome=AttemptOutcome.REJECTED,
        response_excerpt='{"message": "' + "no such subscriber " * 8 + '"}',
    )
    move_messages(
        Message.objects.filter(pk=first.pk),
        ["pending"],
        "failed",
        attempts=1,
        last_error="HTTP 404: " + "no such subscriber " * 8,
    )
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto(f"/campaigns/{campaign.pk}/")
    table = page.locator("#campaign-messages table")
    expect(table).to_be_visible()
    row = table.locator("tbody tr").filter(has_text=display_phone(first.phone))
    for label in ("Status", "Sent", "Reason"):
        cell = row.locator(f'td[data-label="{label}"]')
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], label
    expect(row).to_contain_text("The provider refused this number (HTTP 404).")
    assert no_sideways_scroll(page)
    screenshot(page, "campaign-390px")

    page.goto("/clients/")
    assert no_sideways_scroll(page)
    filters = page.locator("#client-filters")
    expect(filters).to_be_hidden()
    page.get_by_role("button", name="Filters").click()
    expect(filters.get_by_label("Tag")).to_be_visible()
    expect(filters).to_have_class(re.compile(r"\bcollapse\b.*\bshow\b"))  # opened, not opening
    phone_cell = page.locator('#clients-table td[data-label="Phone"]').first
    expect(phone_cell).to_be_visible()
    assert no_sideways_scroll(page)
    screenshot(page, "clients-390px")

    page.goto("/")
    assert no_sideways_scroll(page)
    page.goto("/campaigns/new/")
    assert no_sideways_scroll(page)
