"""axe-core (from the npm registry: package.json, `npm ci`) finds no serious or critical
violation on any page, in either language."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser.every_page import every_page, seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        # As with Chromium: skipped on a machine without it, a failure in CI.
        message = f"{AXE} is missing: run `npm ci` in the project's root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


def serious_violations(page, axe_source: str) -> list[str]:
    # Evaluated through the DevTools protocol: the page's CSP forbids inline scripts.
    page.evaluate("source => { (0, eval)(source); }", axe_source)
    # Frames are left out: the only one is the report's email, a sandboxed page without
    # scripts (checked as its own page would be, by the email's tests).
    result = page.evaluate("axe.run(document, {resultTypes: ['violations'], iframes: false})")
    return [
        f"{v['id']} ({v['impact']}): "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_no_page_has_a_serious_or_critical_axe_violation(
    chromium, live_server, axe_source, language
):
    objects = seed()
    pages = every_page(objects, language)
    assert len(pages) > 20
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in_as(page, objects["manager"].username, language)
        problems = {}
        for name, path in pages:
            if name == "dashboard:report-html":
                continue  # the email alone, sandboxed: no script runs in it
            page.goto(path)
            found = serious_violations(page, axe_source)
            if found:
                problems[name] = found
        page.context.clear_cookies()
        page.goto("/accounts/login/")
        found = serious_violations(page, axe_source)
        if found:
            problems["login"] = found
        if problems:
            pytest.fail("\n".join(f"{name}: {found}" for name, found in problems.items()))
    finally:
        context.close()


def sign_in_as(page, username: str, language: str) -> None:
    page.goto("/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("pw-" + username)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "login" not in url)
