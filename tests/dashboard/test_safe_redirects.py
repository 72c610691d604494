"""The forms that send a person back where they were (`next`) go back only to a page of
this site; anything else goes to the form's own default, never a 500.

`next=X` was a NoReverseMatch: Django's redirect() takes a bare word for a view name.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ODD = [
    "X",
    "dashboard:account",  # a view name is not a page either
    "",
    "clients/",
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example/",
    "javascript:alert(1)",
    "\x00",
]


def post(client, url: str, next_url: str):
    client.raise_request_exception = False
    data = {"next": next_url, "language": "ru", "timezone": "Asia/Tokyo"}
    return client.post(url, data)


@pytest.mark.parametrize("next_url", ODD)
def test_the_language_switcher_signed_out_falls_back_to_the_home_page(client, next_url):
    response = post(client, "/i18n/language/", next_url)
    assert response.status_code == 302, next_url
    assert response["Location"] == "/", next_url
    assert response.cookies["django_language"].value == "ru"


@pytest.mark.parametrize("url", ["/i18n/language/", "/account/timezone/"])
@pytest.mark.parametrize("next_url", ODD)
def test_signed_in_odd_next_values_fall_back(as_viewer, url, next_url):
    response = post(as_viewer, url, next_url)
    assert response.status_code == 302, next_url
    assert response["Location"] == {"/i18n/language/": "/", "/account/timezone/": "/account/"}[url]


@pytest.mark.parametrize("url", ["/i18n/language/", "/account/timezone/"])
def test_a_page_of_this_site_is_where_they_go_back_to(as_viewer, url):
    response = post(as_viewer, url, "/clients/?tag=vip")
    assert response.status_code == 302
    assert response["Location"] == "/clients/?tag=vip"


def test_the_time_zone_form_signed_out_asks_to_sign_in(client):
    response = post(client, "/account/timezone/", "X")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
