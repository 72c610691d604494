"""Forgiving forms in the browser: the searchable time-zone picker, focus on the first error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from messaging.models import Campaign
from security.roles import MANAGERS
from tests.browser.conftest import sign_in
from tests.conftest import make_client, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_time_zone_picker_filters_as_you_type(page):
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/clients/new/")
    picker = page.locator("select#id_timezone")
    first_group = picker.locator("optgroup").first
    expect(first_group).to_have_attribute("label", "Russia")
    page.get_by_label("Find a zone by city").fill("vladi")
    expect(picker).to_have_value("Asia/Vladivostok")
    assert picker.locator("option:not([hidden])").count() == 1
    page.get_by_label("Find a zone by city").fill("new york")
    expect(picker).to_have_value("America/New_York")


def test_after_a_form_error_the_cursor_is_in_the_first_field_to_fix(page):
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/campaigns/new/")
    page.get_by_label("Text").fill("")
    page.get_by_label("Operator codes").fill("91")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Nothing was saved")).to_be_visible()
    expect(page.get_by_label("Text")).to_be_focused()
    assert Campaign.objects.count() == 0


def test_a_filter_typed_before_the_page_scripts_start_is_counted(page):
    """A fast typist, a slow network or the browser restoring a form: the recipients hint
    still counts what the fields hold once htmx starts (seen in CI: it kept saying 21
    clients for a filter that matched 20, because every keystroke came before htmx)."""
    make_user("mara", MANAGERS)
    for i in range(3):
        make_client(f"7916000{i:04d}", tag="vip")
    make_client("79250000000", tag="vip")
    sign_in(page, "mara", "pw-mara")
    held = []
    page.route("**/htmx.min.js", lambda route: held.append(route))
    page.goto("/campaigns/new/", wait_until="commit")
    page.get_by_label("Operator codes").fill("916")
    expect(page.locator('[data-preview="matching"]')).to_contain_text("4 clients match")
    for route in held:
        route.continue_()
    expect(page.locator('[data-preview="matching"]')).to_contain_text("3 clients match")
