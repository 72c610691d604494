"""The main journeys of the web UI, walked in headless Chromium as a new user would."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from messaging.models import Campaign, CampaignStatus, Client
from security.roles import MANAGERS, VIEWERS
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import make_campaign, make_client, make_user


def nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "phone,operator_code,tag,timezone\n"
    "79251234567,,vip,Europe/Moscow\n"
    "79031234567,903,regular,Asia/Vladivostok\n"
    "12345,,vip,Europe/Moscow\n"
)


def test_manager_signs_in_and_adds_clients_by_form_and_by_csv(page):
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")

    nav(page, "Clients")
    expect(page.get_by_text("No clients yet. Add one, or import a CSV file.")).to_be_visible()

    # The form opens in a modal. Bad input: field errors, nothing saved.
    page.get_by_role("link", name="Add client").click()
    dialog = page.get_by_role("dialog", name="Add a client")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Phone")).to_be_focused()
    dialog.get_by_label("Phone").fill("8916")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("Nothing was saved")).to_be_visible()
    expect(dialog.get_by_text("Phone must be 11 digits starting with 7")).to_be_visible()
    assert Client.objects.count() == 0

    page.evaluate("window.notReloaded = true")
    dialog.get_by_label("Phone").fill("79161234567")
    dialog.get_by_label("Tag").fill("vip")
    dialog.get_by_label("Time zone").select_option("Europe/Moscow")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Client +7 (916) 123-45-67 saved.")).to_be_visible()
    expect(page.get_by_role("link", name="+7 (916) 123-45-67", exact=True)).to_be_visible()
    assert page.evaluate("window.notReloaded") is True

    # Edit in the same modal; the row changes in place.
    page.get_by_role("link", name="Edit +7 (916) 123-45-67").click()
    dialog = page.get_by_role("dialog", name="Edit client +7 (916) 123-45-67")
    dialog.get_by_label("Tag").fill("vip")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    assert page.evaluate("window.notReloaded") is True

    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("File (CSV or Excel)").set_input_files(
        {"name": "clients.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    page.get_by_label("Import the valid rows even if some rows are invalid").check()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported: 2 created, 0 updated, 1 rejected.")).to_be_visible()
    rejected = page.get_by_role("table").get_by_role("row").filter(has_text="12345")
    expect(rejected).to_contain_text("Phone must be 11 digits")
    assert Client.objects.count() == 3

    # The table filters in place: the URL follows, the page is not reloaded.
    page.get_by_role("link", name="Back to clients").click()
    expect(page.get_by_text("3 clients")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Tag").fill("vip")
    expect(page.get_by_text("2 clients")).to_be_visible()
    expect(page).to_have_url(re.compile(r"tag=vip"))
    assert page.evaluate("window.notReloaded") is True
    page.get_by_role("link", name="Phone").click()  # sort, still in place
    expect(page).to_have_url(re.compile(r"sort=phone"))
    assert page.evaluate("window.notReloaded") is True
    page.get_by_label("Tag").fill("")
    expect(page.get_by_text("3 clients")).to_be_visible()
    screenshot(page, "clients")
    # A row's link is a whole new page, not a fragment inside the table.
    page.get_by_role("link", name="+7 (903) 123-45-67", exact=True).click()
    expect(page.get_by_role("heading", name="Client +7 (903) 123-45-67")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(1)


SENDS = 20  # at 4 a second: long enough to watch, short enough for the suite


def test_campaign_counters_reach_sent_live(page, sending_cluster):
    make_user("mara", MANAGERS)
    for i in range(SENDS):
        make_client(f"7916000{i:04d}", tag="vip")
    make_client("79250000000", tag="vip")
    sign_in(page, "mara", "pw-mara")

    nav(page, "Campaigns")
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name (optional)").fill("Spring sale")
    page.get_by_label("Text").fill("Spring sale: 20% off today")
    page.get_by_label("Operator codes").fill("916")
    expect(page.locator('[data-preview="matching"]')).to_contain_text(f"{SENDS} clients match")
    page.get_by_label("Send window opens").fill("00:00")
    page.get_by_label("Send window closes").fill("23:59")
    expect(page.locator('[data-preview="window"]')).to_contain_text("Only between 00:00 and 23:59")
    page.get_by_label("Send window opens").fill("")
    page.get_by_label("Send window closes").fill("")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft “Spring sale” saved.")).to_be_visible()
    campaign = Campaign.objects.get()
    # A draft: the running cluster sends nothing (its clock and senders skip drafts).
    expect(page.locator("#campaign-live [data-live='status']")).to_have_text("Draft")
    page.wait_for_timeout(2500)
    assert sending_cluster.receipts()["unique"] == 0
    assert not campaign.messages.exists()
    page.get_by_role("link", name="Review and launch").click()
    expect(page.locator('[data-review="recipients"]')).to_contain_text(f"{SENDS} clients")
    page.get_by_role("button", name=f"Send to {SENDS} clients").click()
    expect(page.get_by_text("Launched: sending has started.")).to_be_visible()

    live = page.locator("#campaign-live")
    expect(live.locator('[data-live="status"]')).to_have_text("Running", timeout=45_000)
    expect(live.locator('[data-count="sent"]')).not_to_have_text("0", timeout=15_000)
    screenshot(page, "campaign-running")
    dashboard = page.context.new_page()
    dashboard.goto("/")
    expect(dashboard.get_by_role("progressbar", name="Progress of Spring sale")).to_be_visible()
    screenshot(dashboard, "dashboard")
    dashboard.close()
    # The message table appeared by itself once the campaign started.
    messages = page.locator("#campaign-messages").get_by_role("link", name=re.compile(r"^\d+$"))
    expect(messages.first).to_be_visible()
    expect(live.locator('[data-count="sent"]')).to_have_text(str(SENDS), timeout=60_000)
    expect(live.locator('[data-live="status"]')).to_have_text("Finished", timeout=15_000)
    assert sending_cluster.receipts()["unique"] == SENDS
    # The message table followed the sending by itself too.
    statuses = page.locator("#campaign-messages tbody .badge")
    expect(statuses.filter(has_text="Sent")).to_have_count(SENDS, timeout=15_000)
    # Finished: the counters stop polling.
    expect(page.locator("#campaign-live")).not_to_have_attribute("hx-trigger", "every 2s")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED

    nav(page, "Dashboard")
    expect(page.locator('[data-figure="sent-today"]')).to_have_text(str(SENDS))
    expect(page.get_by_text(f"sent {SENDS} · ")).to_be_visible()


def test_manager_pauses_and_resumes_a_campaign_from_the_keyboard(page):
    make_user("mara", MANAGERS)
    campaign = make_campaign(name="Later")
    sign_in(page, "mara", "pw-mara")
    page.goto(f"/campaigns/{campaign.pk}/")
    status = page.locator('[data-live="status"]')
    expect(status).to_have_text("Scheduled")

    # Keyboard focus survives the live refresh of the counters and actions. Polls answer 204
    # (nothing to swap) until something changes: an edit makes the next one re-render.
    pause = page.get_by_role("link", name="Pause")
    pause.focus()
    with page.expect_response(
        lambda r: (
            r.url.endswith(f"/campaigns/{campaign.pk}/")
            and r.request.headers.get("hx-target") == "campaign-live"
            and r.status == 200
        )
    ):
        Campaign.objects.get(pk=campaign.pk).save(update_fields=["updated_at"])
    page.wait_for_timeout(100)  # let htmx settle the swap
    expect(pause).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Pause “Later”?")).to_be_visible()
    expect(page.get_by_role("button", name="Yes, pause")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Campaign paused.")).to_be_visible()
    expect(status).to_have_text("Paused")

    page.get_by_role("link", name="Resume").click()
    page.get_by_role("button", name="Yes, resume").click()
    expect(page.get_by_text("Campaign resumed.")).to_be_visible()
    expect(status).to_have_text("Scheduled")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


def test_bad_campaign_input_shows_errors_and_saves_nothing(page):
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/campaigns/new/")
    page.get_by_label("Operator codes").fill("916, 9x")
    expect(page.locator('[data-preview="matching"]')).to_contain_text("Fix the operator codes")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Nothing was saved")).to_be_visible()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    expect(page.get_by_text("9x: Operator code must be exactly 3 digits (0-9).")).to_be_visible()
    assert Campaign.objects.count() == 0


def test_a_viewer_sees_read_only_pages(page):
    make_user("vic", VIEWERS)
    client = make_client("79161234567", tag="vip")
    campaign = make_campaign(name="Visible")
    sign_in(page, "vic", "pw-vic")
    expect(page.get_by_text("Viewer", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="New campaign")).to_have_count(0)

    nav(page, "Clients")
    expect(page.get_by_role("link", name="+7 (916) 123-45-67")).to_be_visible()
    expect(page.get_by_role("link", name="Add client")).to_have_count(0)
    expect(page.get_by_role("link", name="Import CSV")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^(Edit|Delete)"))).to_have_count(0)

    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.get_by_role("heading", name="Visible")).to_be_visible()
    for action in ("Edit", "Pause", "Cancel", "Delete"):
        expect(page.get_by_role("link", name=action, exact=True)).to_have_count(0)

    response = page.goto(f"/clients/{client.pk}/edit/")
    assert response.status == 403
    expect(page.get_by_text("Managers only")).to_be_visible()


def test_clients_table_works_without_javascript(chromium, live_server, settings):
    settings.UI_PAGE_SIZE = 5
    make_user("vic", VIEWERS)
    for i in range(7):
        make_client(f"791600000{i:02d}", tag="vip" if i % 2 else "other")
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_label("Username").fill("vic")
        page.get_by_label("Password").fill("pw-vic")
        page.get_by_role("button", name="Sign in").click()
        nav(page, "Clients")
        expect(page.get_by_text("7 clients")).to_be_visible()
        page.get_by_role("link", name="2", exact=True).click()  # the second page
        expect(page).to_have_url(re.compile(r"page=2"))
        # Newest first: the two oldest are on the second page.
        expect(page.get_by_role("link", name="+7 (916) 000-00-01", exact=True)).to_be_visible()
        page.get_by_label("Tag").fill("vip")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_text("3 clients")).to_be_visible()
        page.get_by_role("link", name="Phone", exact=True).click()
        expect(page).to_have_url(re.compile(r"tag=vip.*sort=phone|sort=phone.*tag=vip"))
        page.get_by_role("link", name="Phone", exact=True).click()
        expect(page).to_have_url(re.compile(r"tag=vip.*sort=-phone|sort=-phone.*tag=vip"))
        rows = page.get_by_role("link", name=re.compile(r"^\+7 \(916\)"))
        expect(rows.first).to_have_text("+7 (916) 000-00-05")
    finally:
        context.close()


def test_times_follow_the_browsers_zone_until_one_is_chosen(chromium, live_server):
    make_user("vera", VIEWERS)
    context = chromium.new_context(base_url=live_server.url, timezone_id="Asia/Tokyo")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, "vera", "pw-vera")
        times_in = page.get_by_role("link", name=re.compile(r"^Times in "))
        expect(times_in).to_have_text("Times in Tokyo")

        times_in.click()
        page.get_by_label("Show times in").select_option("Europe/Moscow")
        page.get_by_role("button", name="Use this time zone").click()
        expect(page.get_by_text("Times are now shown in Moscow.")).to_be_visible()
        page.goto("/campaigns/")
        expect(times_in).to_have_text("Times in Moscow")  # the choice stays
    finally:
        context.close()
