"""Time zones as people write them: one resolver for the import, the API and the forms."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from messaging.campaigns.timezones import (
    CITY_ZONES,
    RUSSIAN_ZONE_BY_OFFSET,
    RUSSIAN_ZONES,
    resolve_timezone,
    zone_search_words,
)
from tests.conftest import make_client


@pytest.mark.fast
@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("Europe/Moscow", "Europe/Moscow"),
        ("europe/moscow", "Europe/Moscow"),
        ("Москва", "Europe/Moscow"),
        ("г. Москва", "Europe/Moscow"),
        ("москва ", "Europe/Moscow"),
        ("Moscow", "Europe/Moscow"),
        ("Санкт-Петербург", "Europe/Moscow"),
        ("Санкт Петербург", "Europe/Moscow"),
        ("St. Petersburg", "Europe/Moscow"),
        ("Калининград", "Europe/Kaliningrad"),
        ("Самара", "Europe/Samara"),
        ("Екатеринбург", "Asia/Yekaterinburg"),
        ("Ekaterinburg", "Asia/Yekaterinburg"),
        ("Омск", "Asia/Omsk"),
        ("Новосибирск", "Asia/Novosibirsk"),
        ("Красноярск", "Asia/Krasnoyarsk"),
        ("Иркутск", "Asia/Irkutsk"),
        ("Якутск", "Asia/Yakutsk"),
        ("Владивосток", "Asia/Vladivostok"),
        ("Vladivostok", "Asia/Vladivostok"),
        ("Магадан", "Asia/Magadan"),
        ("Камчатка", "Asia/Kamchatka"),
        ("Петропавловск-Камчатский", "Asia/Kamchatka"),
        ("Tokyo", "Asia/Tokyo"),
        ("new york", "America/New_York"),
        ("МСК", "Europe/Moscow"),
        ("msk", "Europe/Moscow"),
        ("МСК+4", "Asia/Novosibirsk"),
        ("МСК +2", "Asia/Yekaterinburg"),
        ("MSK-1", "Europe/Kaliningrad"),
        ("МСК−1", "Europe/Kaliningrad"),
        ("MSK+9", "Asia/Kamchatka"),
        ("UTC+3", "Europe/Moscow"),
        ("GMT+3", "Europe/Moscow"),
        ("+3", "Europe/Moscow"),
        ("+03:00", "Europe/Moscow"),
        ("UTC+0300", "Europe/Moscow"),
        ("UTC+7", "Asia/Novosibirsk"),
        ("UTC+12", "Asia/Kamchatka"),
        ("UTC", "UTC"),
        ("GMT", "GMT"),  # an IANA name of its own
        ("UTC+0", "UTC"),
        ("UTC+1", "Etc/GMT-1"),
        ("UTC-5", "Etc/GMT+5"),
    ],
)
def test_a_zone_written_as_people_write_it(text, zone):
    assert resolve_timezone(text) == zone


@pytest.mark.fast
def test_empty_is_the_default_given_or_refused():
    assert resolve_timezone("  ", default="Asia/Omsk") == "Asia/Omsk"
    with pytest.raises(ValidationError):
        resolve_timezone("")


@pytest.mark.fast
@pytest.mark.parametrize("text", ["Mars/Base", "МСК+10", "UTC+15", "+05:30", "3", "x" * 500])
def test_anything_else_is_refused_saying_what_to_write(text):
    with pytest.raises(ValidationError) as caught:
        resolve_timezone(text)
    assert (
        "MSK+N" in caught.value.messages[0] or "whole number of hours" in caught.value.messages[0]
    )


@pytest.mark.fast
def test_an_offset_maps_to_the_russian_zone_that_has_it_today():
    now = datetime(2026, 7, 1, 12)  # summer: Russia keeps no daylight saving time
    for hours, zone in RUSSIAN_ZONE_BY_OFFSET.items():
        assert zone in RUSSIAN_ZONES
        assert now.replace(tzinfo=ZoneInfo(zone)).utcoffset().total_seconds() == hours * 3600


@pytest.mark.fast
def test_every_city_names_a_zone_that_exists():
    for zone, cities in CITY_ZONES.items():
        assert zone in RUSSIAN_ZONES
        for city in cities:
            assert resolve_timezone(city) == zone, city


@pytest.mark.fast
def test_the_picker_finds_a_zone_by_its_russian_city_and_msk_offset():
    assert "москва" in zone_search_words("Europe/Moscow")
    assert "мск+4" in zone_search_words("Asia/Novosibirsk")
    assert "utc+10" in zone_search_words("Asia/Vladivostok")


@pytest.mark.django_db
def test_the_client_form_page_carries_the_search_words(as_manager):
    html = as_manager.get("/clients/new/").content.decode()
    assert 'value="Europe/Moscow" selected data-search="москва moscow' in html


@pytest.mark.django_db
def test_the_api_takes_a_zone_as_people_write_it_and_answers_its_iana_name(manager_api, settings):
    response = manager_api.post(
        "/api/clients/", {"phone": "79161234567", "timezone": "Новосибирск"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["timezone"] == "Asia/Novosibirsk"
    client_id = response.json()["id"]
    settings.CLIENT_DEFAULT_TIMEZONE = "Asia/Omsk"
    response = manager_api.patch(f"/api/clients/{client_id}/", {"timezone": ""}, format="json")
    assert response.json()["timezone"] == "Asia/Omsk"
    response = manager_api.patch(
        f"/api/clients/{client_id}/", {"timezone": "Атлантида"}, format="json"
    )
    assert response.status_code == 400
    assert "Атлантида is not a time zone Herald knows" in response.json()["timezone"][0]


@pytest.mark.django_db
def test_the_client_form_takes_a_zone_as_people_write_it(as_manager):
    response = as_manager.post(
        "/clients/new/", {"phone": "79161234567", "timezone": "МСК+7"}, follow=False
    )
    assert response.status_code == 302
    from messaging.models import Client

    assert Client.objects.get().timezone == "Asia/Vladivostok"


@pytest.mark.django_db
def test_the_client_form_keeps_an_alias_zone_it_was_given():
    from dashboard.forms import ClientForm

    client = make_client("79161234567", tz="Etc/GMT-5")
    form = ClientForm(data={"phone": client.phone, "timezone": "Etc/GMT-5"}, instance=client)
    assert form.is_valid(), form.errors
