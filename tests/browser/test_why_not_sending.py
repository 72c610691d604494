"""The campaign page and the dashboard say why messages are not going out, and while sending
is held they say so in the badge and promise no finish."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messaging import services
from messaging.models import CircuitState, Message, ProviderState, SendBucket
from security.roles import MANAGERS, VIEWERS
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import make_user
from tests.engine.conftest import make_clients, running_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ESTIMATE = "should go out around"


def sending_fast(campaign) -> None:
    """Sends in this minute: without a hold, the page would promise a finish."""
    minute = timezone.now().replace(second=0, microsecond=0)
    SendBucket.objects.create(campaign=campaign, minute=minute, sent=600)


def open_campaign(page, campaign, role=VIEWERS):
    make_user("vera", role)
    sign_in(page, "vera", "pw-vera")
    page.goto(f"/campaigns/{campaign.pk}/")


def expect_held(page, code: str, badge: str = "Sending held") -> None:
    status = page.locator("#campaign-live [data-live='status']")
    expect(status).to_have_text(badge)
    expect(status).to_have_attribute("data-held", code)
    expect(page.locator("#campaign-live")).not_to_contain_text(ESTIMATE)


def test_messages_waiting_for_the_send_window(page):
    make_clients(4, tz="Asia/Vladivostok")
    campaign = running_campaign(
        name="Morning news", send_window_start=time(9, 0), send_window_end=time(10, 0)
    )
    opening = timezone.now() + timedelta(hours=5)
    Message.objects.filter(campaign=campaign).update(next_attempt_at=opening)
    sending_fast(campaign)
    open_campaign(page, campaign)
    line = page.locator('[data-why="window"]')
    expect(line).to_contain_text("4 messages are waiting for the send window")
    expect(line).to_contain_text("opens at 09:00 in each client's time zone")
    expect(page.get_by_role("heading", name="Why isn't it sending?")).to_be_visible()
    expect_held(page, "window")
    screenshot(page, "campaign-why-window")

    page.goto("/")
    expect(page.locator(f'[data-why-for="{campaign.pk}"] [data-why="window"]')).to_contain_text(
        "4 messages are waiting for the send window"
    )


def test_the_provider_refusing_the_credentials(page):
    make_clients(2)
    campaign = running_campaign(name="Token trouble")
    sending_fast(campaign)
    ProviderState.objects.update_or_create(
        pk=1, defaults={"credentials_rejected": True, "credentials_detail": "HTTP 401"}
    )
    open_campaign(page, campaign)
    expect(page.locator('[data-why="credentials"]')).to_contain_text(
        "The provider refuses Herald's access"
    )
    expect_held(page, "credentials")
    # A viewer reads the marketer's words only: no setting names, no HTTP codes.
    assert "PROVIDER_TOKEN" not in page.content()
    page.goto("/")
    expect(page.locator(f'[data-why-for="{campaign.pk}"] [data-why="credentials"]')).to_be_visible()
    expect(page.get_by_text("Provider: refuses Herald's access")).to_be_visible()


def test_a_manager_opens_the_technical_detail(page):
    make_clients(2)
    campaign = running_campaign(name="Token trouble")
    ProviderState.objects.update_or_create(
        pk=1, defaults={"credentials_rejected": True, "credentials_detail": "HTTP 401"}
    )
    open_campaign(page, campaign, role=MANAGERS)
    detail = page.locator('[data-why="credentials"] details')
    expect(detail).not_to_contain_text("PROVIDER_TOKEN", use_inner_text=True)  # folded
    detail.get_by_text("Technical detail").click()
    expect(detail).to_contain_text("HTTP 401/403")
    expect(detail).to_contain_text("PROVIDER_TOKEN", use_inner_text=True)


def test_a_provider_outage_says_when_it_tries_again(page):
    make_clients(2)
    campaign = running_campaign(name="Outage")
    sending_fast(campaign)
    until = timezone.now() + timedelta(minutes=30)
    ProviderState.objects.update_or_create(
        pk=1, defaults={"circuit": CircuitState.OPEN, "opened_until": until, "error_rate": 1.0}
    )
    open_campaign(page, campaign)
    zone = page.get_by_title("Change the time zone").inner_text().removeprefix("Times in ")
    clock = timezone.localtime(until, ZoneInfo(zone)).strftime("%H:%M")
    expect(page.locator('[data-why="outage"]')).to_have_text(
        f"The provider is not accepting messages; next try at {clock}."
    )
    expect_held(page, "outage")
    page.goto("/")
    expect(page.get_by_text("Provider: not accepting messages")).to_be_visible()
    expect(page.locator('[data-health="error-rate"]')).to_have_text("100%")
    expect(page.locator(f"#live-campaign-{campaign.pk} ~ [data-live='status']")).to_have_text(
        "Sending held"
    )


def test_a_paused_campaign_promises_no_finish(page):
    make_clients(2)
    campaign = running_campaign(name="Paused one")
    sending_fast(campaign)
    services.pause_campaign(campaign=campaign)
    open_campaign(page, campaign)
    expect(page.locator('[data-why="paused"]')).to_contain_text("nothing is sent until it is")
    expect_held(page, "paused", badge="Paused")
