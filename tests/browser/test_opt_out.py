"""Opt a client out on its page, then see the review leave it out; personal fields in the
composer. Walked in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from messaging import services
from messaging.models import Client, Via
from security.roles import MANAGERS
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import make_client, make_user
from tests.dashboard.test_drafts import make_draft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_opted_out_in_the_ui_is_left_out_of_the_review(page):
    make_user("mara", MANAGERS)
    anna = make_client("79161234567")
    make_client("79161234568")
    draft = make_draft(name="Spring")
    sign_in(page, "mara", "pw-mara")

    page.goto(f"/clients/{anna.pk}/")
    page.get_by_label("Reason (optional)").fill("replied STOP")
    page.get_by_role("button", name="Opt out").click()
    expect(page.get_by_text("Client +7 (916) 123-45-67 opted out")).to_be_visible()
    expect(page.locator("#client-opt-out")).to_contain_text("replied STOP")
    expect(page.get_by_role("button", name="Opt back in")).to_be_visible()

    page.goto("/clients/?standing=opted_out")
    expect(page.get_by_text("+7 (916) 123-45-67")).to_be_visible()
    expect(page.get_by_text("+7 (916) 123-45-68")).to_have_count(0)

    page.goto(f"/campaigns/{draft.pk}/review/")
    expect(page.locator('[data-review="left-out"]')).to_contain_text("opted out: 1")
    expect(page.locator('[data-review="recipients"] strong')).to_have_text("all 1 client")
    expect(page.get_by_role("button", name="Send to 1 client")).to_be_visible()
    screenshot(page, "review-left-out")


def test_the_composer_inserts_a_field_and_previews_a_real_client(page):
    make_user("mara", MANAGERS)
    anna = make_client("79161234567")
    anna.name, anna.attributes = "Анна", {"city": "Казань"}
    anna.save()
    opted = make_client("79161234568")
    services.opt_out(client=opted, via=Via.HAND)
    sign_in(page, "mara", "pw-mara")

    page.goto("/campaigns/new/")
    text = page.get_by_label("Text")
    text.fill("Привет, ")
    page.locator('[data-merge-tag="{name}"]').click()
    text.press("End")
    text.type("! ")
    page.locator('[data-merge-tag="{city}"]').click()
    expect(text).to_have_value("Привет, {name}! {city}")
    expect(page.locator('[data-preview="sample-text"]')).to_have_text("Привет, Анна! Казань")
    expect(page.locator('[data-preview="left-out"]')).to_contain_text("opted out: 1")
    text.fill("Привет, {nmae}")
    expect(page.locator('[data-preview="unknown-fields"]')).to_contain_text("{nmae}")
    assert Client.objects.count() == 2
