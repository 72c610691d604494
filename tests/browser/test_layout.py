"""Desktop widths a marketer works at (1024-1440 px): the top bar stays one line, with the
admin pages in one menu, and every status badge fits its tile or cell."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.browser.every_page import every_page, seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1024, 1280, 1366, 1440)

BADGES_OUTSIDE = """
() => [...document.querySelectorAll('.badge')].filter(badge => {
  const box = badge.getBoundingClientRect();
  if (!box.width) return false;
  const holder = badge.closest('.counters > div, td, .card, li, dd, p, h1, h2, div');
  const outer = holder.getBoundingClientRect();
  return box.left < outer.left - 0.5 || box.right > outer.right + 0.5;
}).map(badge => badge.textContent.trim())
"""


@pytest.mark.parametrize("language", ["ru", "en"])
def test_top_bar_is_one_line_and_badges_fit_at_desktop_widths(chromium, live_server, language):
    objects = seed()
    pages = [
        (name, path)
        for name, path in every_page(objects, language)
        if name in ("dashboard:home", "dashboard:campaign-list", "dashboard:campaign-detail")
        or name.startswith("campaign ")
    ]
    assert len(pages) > 5
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1024, "height": 800}
    )
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto("/")
        page.locator("input[name=username]").fill(objects["manager"].username)
        page.locator("input[name=password]").fill("pw-" + objects["manager"].username)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(lambda url: "login" not in url)
        problems = []
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            for name, path in pages:
                page.goto(path)
                # One line: every item of the bar shares a horizontal band (a second line
                # would start below the first one's bottom).
                boxes = page.evaluate(
                    "[...document.querySelectorAll('#nav-main > ul > li, .navbar-brand')]"
                    ".map(e => [e.getBoundingClientRect().top, e.getBoundingClientRect().bottom])"
                )
                if max(top for top, _ in boxes) >= min(bottom for _, bottom in boxes):
                    problems.append(f"{width}px {name}: the top bar wraps")
                outside = page.evaluate(BADGES_OUTSIDE)
                if outside:
                    problems.append(f"{width}px {name}: badges stick out: {outside}")
        assert not problems, "\n".join(problems)
        # The admin pages are in one menu, not in the main bar.
        nav = page.locator("#nav-main")
        admin = nav.locator("[data-nav=admin]")
        assert nav.locator("> ul > li > a[href='/docs/']").count() == 0
        admin.get_by_role("button").click()
        assert admin.locator(".dropdown-menu a").count() == 2  # API docs and the audit
        assert admin.locator(".dropdown-menu").is_visible()
    finally:
        context.close()
