"""The strict Content-Security-Policy breaks nothing: Swagger UI and the pages run under it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from security.roles import MANAGERS
from tests.browser.conftest import sign_in
from tests.conftest import make_campaign, make_client, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_csp(page) -> list[str]:
    """Every CSP violation the page reports (console errors and securitypolicyviolation)."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    return violations


def test_swagger_ui_renders_and_runs_under_the_csp(page):
    make_user("mara", MANAGERS)
    violations = watch_csp(page)
    sign_in(page, "mara", "pw-mara")
    page.goto("/docs/")
    expect(page.get_by_role("heading", name="Herald API")).to_be_visible()
    # The operations are listed and open: the bundle and the start-up script both ran.
    page.get_by_role("button", name="GET /api/clients/", exact=False).first.click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    assert violations == []


def test_the_ui_pages_run_under_the_csp(page):
    make_user("mara", MANAGERS)
    client = make_client("79161234567", tag="vip")
    campaign = make_campaign(name="Spring", start_in=timedelta(minutes=-5))
    violations = watch_csp(page)
    sign_in(page, "mara", "pw-mara")
    for path in (
        "/",
        "/clients/",
        f"/clients/{client.pk}/",
        "/campaigns/",
        f"/campaigns/{campaign.pk}/",
        "/campaigns/new/",
        "/reports/daily/",
        "/account/",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    # The client form opens in a Bootstrap modal (script from static files only).
    page.goto("/clients/")
    page.get_by_role("link", name="Add client").click()
    expect(page.get_by_role("dialog", name="Add a client")).to_be_visible()
    assert violations == []
