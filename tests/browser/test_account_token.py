"""The account page's API token in Chromium: shown once, a reload neither shows it again nor
replaces it, revoking asks."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from security.models import ApiToken
from security.roles import VIEWERS
from tests.browser.conftest import sign_in
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_token_is_shown_once_and_revoking_asks_first(page, live_server):
    user = make_user("vera", VIEWERS)
    sign_in(page, "vera", "pw-vera")
    page.goto("/account/")
    page.get_by_role("button", name="Create my token").click()
    key_box = page.get_by_label("New API token")
    expect(key_box).to_be_visible()
    key = key_box.input_value()
    assert len(key) == 40
    api = f"{live_server.url}/api/clients/"
    assert requests.get(api, headers={"Authorization": f"Token {key}"}, timeout=10).ok

    # A reload (the browser would re-POST without the redirect) shows the key no more and
    # keeps the same token.
    page.reload()
    expect(page.get_by_label("New API token")).to_have_count(0)
    expect(page.get_by_text(f"{key[:6]}…")).to_be_visible()
    assert ApiToken.objects.filter(user=user).count() == 1
    assert requests.get(api, headers={"Authorization": f"Token {key}"}, timeout=10).ok

    page.get_by_role("link", name="Revoke it…").click()
    expect(page.get_by_role("heading", name="Revoke your API token?")).to_be_visible()
    page.get_by_role("link", name="No, go back").click()
    assert ApiToken.objects.filter(user=user).exists()
    page.get_by_role("link", name="Revoke it…").click()
    page.get_by_role("button", name="Yes, revoke it").click()
    expect(page.get_by_text("Your API token is revoked")).to_be_visible()
    refused = requests.get(api, headers={"Authorization": f"Token {key}"}, timeout=10)
    assert refused.status_code == 401
