"""Russian and English in a real browser: no English left, the switcher, screenshots of both."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from dashboard.models import UserPreference
from tests.browser.conftest import screenshot
from tests.i18n.test_languages import DATA, USERNAME, seed_russian_team
from tests.support.i18n_pages import english_words, readable_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _context(chromium, live_server, locale: str):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale=locale
    )
    context.set_default_timeout(10_000)
    return context


def _watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _sign_in(page, username: str, password: str) -> None:
    page.goto("/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.locator("#dashboard-live").wait_for()


def _no_english(page, name: str) -> None:
    words = english_words(readable_text(page.content(), "ru"), data=DATA)
    assert not words, (name, sorted(set(words)))


def test_a_russian_browser_gets_russian_pages_and_can_switch_to_english(chromium, live_server):
    objects = seed_russian_team()
    campaign = objects["campaign"]
    context = _context(chromium, live_server, "ru-RU")
    page = context.new_page()
    errors = _watch_console(page)

    page.goto("/")
    expect(page.get_by_role("heading", name="Вход в Herald")).to_be_visible()
    _no_english(page, "login")
    _sign_in(page, USERNAME, f"pw-{USERNAME}")
    expect(page.get_by_role("heading", name="Сводка", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    # The live part refreshes every 2 s: still Russian after a refresh.
    page.wait_for_timeout(2500)
    _no_english(page, "dashboard")
    screenshot(page, "dashboard-ru")

    page.goto(reverse("dashboard:campaign-detail", args=[campaign.pk]))
    expect(page.get_by_role("heading", name="Весенняя распродажа")).to_be_visible()
    # The seed has the provider refusing Herald's credentials: sending is held.
    expect(page.locator('[data-live="status"]')).to_have_text("Отправка задержана")
    _no_english(page, "campaign")
    screenshot(page, "campaign-ru")

    page.goto(reverse("dashboard:campaign-create"))
    page.get_by_label("Текст").fill("Привет! Скидка 20% для вас.")
    page.get_by_label("Коды операторов").fill("916")
    expect(page.locator('[data-preview="matching"]')).to_contain_text("Под этот фильтр подходят")
    _no_english(page, "campaign form")
    screenshot(page, "campaign-form-ru")

    # The switcher: English, remembered on the user.
    page.get_by_role("button", name="English").click()
    expect(page.get_by_text("The interface is now in English.")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert UserPreference.language_of(objects["manager"]) == "en"
    page.goto("/")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    screenshot(page, "dashboard-en")
    page.goto(reverse("dashboard:campaign-detail", args=[campaign.pk]))
    expect(page.locator('[data-live="status"]')).to_have_text("Sending held")
    screenshot(page, "campaign-en")
    page.goto(reverse("dashboard:campaign-create"))
    page.get_by_label("Text").fill("Hello! 20% off for you.")
    page.get_by_label("Operator codes").fill("916")
    expect(page.locator('[data-preview="matching"]')).to_contain_text("clients match")
    screenshot(page, "campaign-form-en")
    assert not errors, errors
    context.close()

    # Another browser that asks for Russian: the stored choice (English) wins at sign-in.
    other = _context(chromium, live_server, "ru-RU")
    page = other.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Вход в Herald")).to_be_visible()
    _sign_in(page, USERNAME, f"pw-{USERNAME}")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    other.close()
