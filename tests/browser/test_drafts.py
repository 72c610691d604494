"""Drafts, the review and the launch, walked in Chromium in English and in Russian."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from messaging.models import Campaign, CampaignStatus, Message
from security.roles import MANAGERS
from tests.browser.conftest import screenshot
from tests.conftest import make_client, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOSCOW = ZoneInfo("Europe/Moscow")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"

WORDS = {
    "en": {
        "locale": "en-US",
        "username": "Username",
        "password": "Password",
        "sign_in": "Sign in",
        "text": "Text",
        "end": "End (Moscow)",
        "opens": "Send window opens",
        "closes": "Send window closes",
        "save": "Save draft",
        "saved": "Draft “Flash sale” saved. Nothing is sent until you review and launch it.",
        "draft": "Draft",
        "review": "Review and launch",
        "all": "all 3 clients",
        "cost": "RUB14.10",
        "send": "Send to 3 clients",
        "window_warning": "For 3 clients the send window does not open before the end",
    },
    "ru": {
        "locale": "ru-RU",
        "username": "Имя пользователя",
        "password": "Пароль",
        "sign_in": "Войти",
        "text": "Текст",
        "end": "Окончание (Москва)",
        "opens": "Окно отправки открывается",
        "closes": "Окно отправки закрывается",
        "save": "Сохранить черновик",
        "saved": "Черновик «Flash sale» сохранён. Ничего не отправится, пока вы не проверите "
        "и не запустите его.",
        "draft": "Черновик",
        "review": "Проверить и запустить",
        "all": "все 3 клиента",
        "cost": "14,10\xa0₽",
        "send": "Отправить 3 клиентам",
        "window_warning": "Для 3 клиентов окно отправки не откроется до окончания",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_new_campaign_is_a_draft_and_its_review_gives_parts_cost_and_warnings(
    chromium, live_server, settings, language
):
    words = WORDS[language]
    settings.SMS_PART_PRICE = Decimal("2.35")
    make_user("mara", MANAGERS)
    for i in range(3):
        make_client(f"7916000000{i}", tz="Europe/Moscow")
    context = chromium.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale=words["locale"],
        timezone_id="Europe/Moscow",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/")
    page.get_by_label(words["username"]).fill("mara")
    page.get_by_label(words["password"]).fill("pw-mara")
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    page.wait_for_url(f"{live_server.url}/")

    # A 3-minute campaign whose window opens two hours from now: nobody gets an opening.
    now = datetime.now(MOSCOW)
    page.goto("/campaigns/new/")
    page.locator("#id_name").fill("Flash sale")
    page.get_by_label(words["text"]).fill("Распродажа! " * 8)  # 96 UCS-2 characters: 2 parts
    page.get_by_label(words["end"]).fill((now + timedelta(minutes=3)).strftime(LOCAL_INPUT))
    page.get_by_label(words["opens"]).fill((now + timedelta(hours=2)).strftime("%H:%M"))
    page.get_by_label(words["closes"]).fill((now + timedelta(hours=3)).strftime("%H:%M"))
    expect(page.locator('[data-preview="window-warning"]')).to_contain_text(words["window_warning"])
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_text(words["saved"])).to_be_visible()
    expect(page.locator("#campaign-live [data-live='status']")).to_have_text(words["draft"])
    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.DRAFT and not Message.objects.exists()

    page.get_by_role("link", name=words["review"]).click()
    recipients = page.locator('[data-review="recipients"] strong')
    expect(recipients).to_have_text(words["all"])  # an empty filter, in bold
    expect(page.locator('[data-review="parts"]')).to_contain_text("2")
    expect(page.locator('[data-review="total-parts"]')).to_have_text("6")
    expect(page.locator('[data-review="cost"] strong')).to_have_text(words["cost"])
    expect(page.locator('[data-review="windows-never-open"]')).to_contain_text("3")
    for code in ("window_never_opens", "short", "start_past", "long_text"):
        expect(page.locator(f'[data-warning="{code}"]')).to_be_visible()
    expect(page.locator('[data-warning="window_never_opens"]')).to_contain_text(
        words["window_warning"]
    )
    expect(page.get_by_role("button", name=words["send"])).to_be_visible()
    screenshot(page, f"campaign-review-{language}")
    assert Campaign.objects.get().status == CampaignStatus.DRAFT
    context.close()
