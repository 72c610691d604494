"""The SMS composer in headless Chromium: live counts at the part boundaries and a test send."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from messaging.campaigns.sms import measure
from messaging.models import TestSend
from security.roles import MANAGERS
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import make_user
from tests.engine.conftest import TOKEN, local_provider, provider  # noqa: F401 (fixtures)
from tests.support.sms_cases import BOUNDARY_CASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def counts(page) -> tuple[str, int, int]:
    composer = page.locator("#sms-composer")
    return (
        composer.locator('[data-sms="encoding"]').inner_text(),
        int(composer.locator('[data-sms="characters"]').inner_text()),
        int(composer.locator('[data-sms="parts"]').inner_text()),
    )


def test_composer_counts_match_python_at_the_part_boundaries(page):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/campaigns/new/")
    text_field = page.get_by_label("Text")
    for name, text, encoding, characters, parts in BOUNDARY_CASES:
        text_field.fill(text)
        info = measure(text)
        expected = (encoding, characters, parts)
        assert (info.encoding, info.characters, info.parts) == expected, name
        expect(page.locator('#sms-composer [data-sms="parts"]')).to_have_text(str(parts))
        assert counts(page) == expected, name
        remaining = page.locator('#sms-composer [data-sms="remaining"]').inner_text()
        assert int(remaining) == info.remaining, name

    text_field.fill("Black Friday at Herald: everything -30% today only! Reply STOP to opt out.")
    expect(page.locator('#sms-composer [data-sms="preview"]')).to_have_text(
        "Black Friday at Herald: everything -30% today only! Reply STOP to opt out."
    )
    assert counts(page) == ("GSM-7", 74, 1)
    expect(page.locator('#sms-composer [data-sms="ucs2-because"]')).to_be_hidden()
    text_field.fill("Black Friday — “everything” -30%")
    expect(page.locator('#sms-composer [data-sms="non-gsm"]')).to_have_text("— “ ”")
    screenshot(page, "composer")
    assert errors == []


def test_composer_warns_over_the_maximum_parts(page, settings):
    settings.SMS_MAX_PARTS = 2
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/campaigns/new/")
    warning = page.locator('#sms-composer [data-sms="too-long"]')
    page.get_by_label("Text").fill("я" * 134)
    expect(warning).to_be_hidden()
    page.get_by_label("Text").fill("я" * 135)
    expect(warning).to_be_visible()


def test_a_test_send_reaches_the_local_provider(page, settings, provider):  # noqa: F811
    settings.PROVIDER_URL = provider.url
    settings.PROVIDER_TOKEN = TOKEN
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/campaigns/new/")
    page.get_by_label("Text").fill("Привет! Скидка 30% только сегодня.")
    page.get_by_label("Send a test to one phone").fill("79161234567")
    page.get_by_role("button", name="Send a test").click()
    expect(
        page.get_by_text("Test sent to +7 (916) 123-45-67: the provider accepted it.")
    ).to_be_visible()
    # The form is still there with what was typed: nothing was saved.
    expect(page.get_by_label("Text")).to_have_value("Привет! Скидка 30% только сегодня.")
    record = TestSend.objects.get()
    receipt = provider.receipt(record.message_id)
    assert receipt["phone"] == 79161234567
    assert receipt["text"] == "Привет! Скидка 30% только сегодня."
