"""The campaign page and the dashboard say why messages are not going out."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messaging.models import CircuitState, Message, ProviderState
from messaging.roles import VIEWERS
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import make_user
from tests.engine.conftest import make_clients, running_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_campaign(page, campaign):
    make_user("vera", VIEWERS)
    sign_in(page, "vera", "pw-vera")
    page.goto(f"/campaigns/{campaign.pk}/")


def test_messages_waiting_for_the_send_window(page):
    make_clients(4, tz="Asia/Vladivostok")
    campaign = running_campaign(
        name="Morning news", send_window_start=time(9, 0), send_window_end=time(10, 0)
    )
    opening = timezone.now() + timedelta(hours=5)
    Message.objects.filter(campaign=campaign).update(next_attempt_at=opening)
    open_campaign(page, campaign)
    line = page.locator('[data-why="window"]')
    expect(line).to_contain_text("4 messages are waiting for the send window")
    expect(line).to_contain_text("opens at 09:00 in each client's time zone")
    expect(page.get_by_role("heading", name="Why isn't it sending?")).to_be_visible()
    screenshot(page, "campaign-why-window")

    page.goto("/")
    expect(page.locator(f'[data-why-for="{campaign.pk}"] [data-why="window"]')).to_contain_text(
        "4 messages are waiting for the send window"
    )


def test_the_provider_refusing_the_credentials(page):
    make_clients(2)
    campaign = running_campaign(name="Token trouble")
    ProviderState.objects.update_or_create(pk=1, defaults={"credentials_rejected": True})
    open_campaign(page, campaign)
    expect(page.locator('[data-why="credentials"]')).to_contain_text(
        "The provider refuses Herald's credentials"
    )
    page.goto("/")
    expect(page.locator(f'[data-why-for="{campaign.pk}"] [data-why="credentials"]')).to_be_visible()


def test_a_provider_outage_says_until_when(page):
    make_clients(2)
    campaign = running_campaign(name="Outage")
    until = timezone.now() + timedelta(minutes=30)
    ProviderState.objects.update_or_create(
        pk=1, defaults={"circuit": CircuitState.OPEN, "opened_until": until}
    )
    open_campaign(page, campaign)
    zone = page.get_by_title("Change the time zone").inner_text().removeprefix("Times in ")
    clock = timezone.localtime(until, ZoneInfo(zone)).strftime("%H:%M:%S")
    expect(page.locator('[data-why="outage"]')).to_have_text(
        f"The provider is failing: sending is paused until {clock}, then one message tests it."
    )
    page.goto("/")
    expect(page.get_by_text("Provider: failing")).to_be_visible()
