"""A 390 px phone: no sideways scroll, message and client tables as cards, folded filters."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messaging.campaigns.phones import display_phone
from messaging.models import AttemptOutcome, DeliveryAttempt, Message
from messaging.models.counters import move_messages
from security.roles import MANAGERS
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
    """Nothing wider than the screen: on a phone the layout viewport (innerWidth) grows to
    fit wide content, so both are held to the device's width, not only to each other."""
    width = page.viewport_size["width"]
    return page.evaluate(
        "w => document.scrollingElement.scrollWidth <= w && window.innerWidth <= w", width
    )


def overflowing(page) -> list[str]:
    """The first elements that stick out on the right, to say what is too wide."""
    return page.evaluate(
        """w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('thead'))
        .slice(0, 5)
        .map(e => e.tagName + '.' + e.className + ':' + e.textContent.trim().slice(0, 30))""",
        page.viewport_size["width"],
    )


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
    # The recipient count comes first on a phone, above the fields it counts from.
    count = page.locator("#campaign-preview").bounding_box()
    text = page.locator("#id_text").bounding_box()
    assert count["y"] < text["y"]


# --- Every page at 390 px ---------------------------------------------------------------

LABEL_FITS = """
() => {
  const problems = [];
  const probe = document.createElement('span');
  probe.style.position = 'absolute';
  probe.style.visibility = 'hidden';
  probe.style.whiteSpace = 'nowrap';
  document.body.appendChild(probe);
  for (const td of document.querySelectorAll('.table-cards td[data-label]')) {
    const label = td.dataset.label;
    if (!label || td.offsetParent === null) continue;
    const before = getComputedStyle(td, '::before');
    if (before.content === 'none') continue;
    if (['break-all', 'break-word'].includes(before.wordBreak)
        || ['anywhere', 'break-word'].includes(before.overflowWrap)
        || before.hyphens === 'auto') {
      problems.push(`${label}: may break inside a word `
        + `(${before.wordBreak}, ${before.overflowWrap}, ${before.hyphens})`);
    }
    probe.style.font = before.font;
    let widest = 0;
    for (const word of label.split(/\\s+/)) {
      probe.textContent = word;
      widest = Math.max(widest, probe.getBoundingClientRect().width);
    }
    const track = parseFloat(getComputedStyle(td).gridTemplateColumns.split(' ')[0]);
    if (!(track + 0.5 >= widest)) problems.push(`${label}: ${track}px for a word of ${widest}px`);
  }
  probe.remove();
  return [...new Set(problems)];
}
"""


@pytest.fixture
def russian_phone_page(chromium, live_server):
    from django.conf import settings

    context = chromium.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        locale="ru-RU",
        is_mobile=True,
        has_touch=True,
        # Bootstrap scrolls smoothly otherwise, and a trial tap would test a moving page.
        reduced_motion="reduce",
    )
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "ru", "url": live_server.url}]
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _sign_in_by_form(page, username: str) -> None:
    page.goto("/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("pw-" + username)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "login" not in url)


def test_every_page_at_390_px_fits_and_its_card_labels_break_only_between_words(
    russian_phone_page,
):
    from tests.browser.every_page import every_page, seed

    page = russian_phone_page
    objects = seed()
    pages = every_page(objects, "ru")
    assert len(pages) > 20
    _sign_in_by_form(page, objects["manager"].username)
    wide, labels = {}, {}
    checked_labels = 0
    for name, path in pages:
        if name == "dashboard:report-html":
            continue  # the email alone, framed by the report page
        page.goto(path)
        sizes = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        # A phone widens its layout viewport to fit wide content (innerWidth grows with
        # scrollWidth): both must stay the screen's 390 px.
        if max(sizes) > PHONE["width"]:
            wide[name] = sizes + overflowing(page)
        found = page.evaluate(LABEL_FITS)
        checked_labels += page.locator(".table-cards td[data-label]").count()
        if found:
            labels[name] = found
    assert not wide, wide
    assert not labels, labels
    assert checked_labels > 50  # the clients', messages' and campaigns' cards were there


def test_every_pagination_link_at_390_px_is_on_screen_and_clickable(russian_phone_page):
    from messaging.models import Client
    from messaging.models.counters import add_pending
    from tests.browser.every_page import seed

    page = russian_phone_page
    objects = seed()
    campaign = objects["campaign"]
    messages = Message.objects.bulk_create(
        Message(campaign=campaign, client=c, phone=c.phone)
        for c in Client.objects.filter(phone__startswith="7903")
    )
    add_pending(campaign.pk, len(messages))  # the counters the message table pages by
    _sign_in_by_form(page, objects["manager"].username)
    lists = [
        "/clients/",
        "/clients/?per_page=2&page=9",  # many pages: the range with gaps
        f"/campaigns/{campaign.pk}/",
        f"/campaigns/{campaign.pk}/?per_page=2&page=5",
        "/campaigns/?per_page=2&page=2",
    ]
    seen = 0
    for path in lists:
        page.goto(path)
        links = page.locator(".pagination a[href]")
        assert links.count() >= 2, path
        for i in range(links.count()):
            link = links.nth(i)
            box = link.bounding_box()
            assert box is not None, (path, i)
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (path, box)
            link.click(trial=True)  # visible, enabled, not covered: a tap would land on it
            seen += 1
        assert no_sideways_scroll(page), path
    # And a tap really goes there: the last page link of the clients' list.
    page.goto("/clients/")
    page.locator(".pagination a[href]").last.click()
    page.wait_for_url(lambda url: "page=2" in url)
    assert seen > 10
