"""Finding a client by any run of digits of the phone, phones as people read them, newest
first."""

from __future__ import annotations

import pytest

from messaging.campaigns.phones import display_phone
from tests.conftest import make_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory():
    for phone in ("79161234567", "79267654321", "79031112233", "79164567000"):
        make_client(phone)


def found(api, search: str) -> list[str]:
    response = api.get("/api/clients/", {"search": search})
    assert response.status_code == 200, response.json()
    return sorted(row["phone"] for row in response.json()["results"])


@pytest.mark.parametrize(
    ("search", "phones"),
    [
        ("4567", ["79161234567", "79164567000"]),  # the end, and the middle
        ("916123", ["79161234567"]),  # without the country code
        ("123-45", ["79161234567"]),  # typed with separators
        ("7654", ["79267654321"]),
        ("1112", ["79031112233"]),
        ("8 916 123", ["79161234567"]),  # the domestic way: +7 916 123...
        ("+7 916", ["79161234567", "79164567000"]),  # + means "starts with"
        ("8 (926) 765-43-21", ["79267654321"]),  # a whole number, any common way
        ("79", ["79031112233", "79161234567", "79164567000", "79267654321"]),  # short: start
        ("000000", []),
    ],
)
def test_any_run_of_four_digits_finds_the_phone_wherever_it_is(
    viewer_api, directory, search, phones
):
    assert found(viewer_api, search) == phones


def test_the_ui_search_finds_digits_inside_the_phone(as_viewer, directory):
    html = as_viewer.get("/clients/", {"search": "4567"}).content.decode()
    assert "+7 (916) 123-45-67" in html and "+7 (916) 456-70-00" in html
    assert "+7 (926) 765-43-21" not in html


def test_a_search_with_many_matches_reads_up_to_the_cap(as_viewer, monkeypatch):
    from messaging.api import filters

    monkeypatch.setattr(filters, "SEARCH_CAP", 3)
    for i in range(5):
        make_client(f"7916000{i:04d}", tag="vip" if i else "other")
    html = as_viewer.get("/clients/", {"search": "6000", "tag": "vip"}).content.decode()
    assert 'id="search-capped"' in html
    assert "3 clients" in html
    # Three of the four vip ones: the other filters apply before the cap.
    shown = [i for i in range(5) if display_phone(f"7916000{i:04d}") in html]
    assert len(shown) == 3 and 0 not in shown
    few = as_viewer.get("/clients/", {"search": "60000003"}).content.decode()
    assert 'id="search-capped"' not in few


def test_phones_are_shown_as_people_read_them():
    assert display_phone("79161234567") == "+7 (916) 123-45-67"
    assert display_phone("bad") == "bad"


def test_the_client_list_shows_the_newest_first_by_default(as_viewer):
    for phone in ("79990000001", "79110000002", "79550000003"):
        make_client(phone)
    html = as_viewer.get("/clients/").content.decode()
    positions = [
        html.index(display_phone(p)) for p in ("79550000003", "79110000002", "79990000001")
    ]
    assert positions == sorted(positions)
    oldest_first = as_viewer.get("/clients/", {"sort": "created_at"}).content.decode()
    assert oldest_first.index(display_phone("79990000001")) < oldest_first.index(
        display_phone("79550000003")
    )
