"""The time-zone picker: Russia's zones first, geographic names only, old aliases kept."""

from __future__ import annotations

import pytest

from dashboard.forms import ClientForm, timezone_choices
from messaging.campaigns.timezones import RUSSIAN_ZONES
from tests.conftest import make_client


def test_russia_comes_first_then_utc_and_the_world_without_technical_names():
    (russia_label, russia), (_other_label, others) = timezone_choices()
    assert str(russia_label) == "Russia"
    assert [value for value, _ in russia][:2] == ["Europe/Kaliningrad", "Europe/Moscow"]
    assert {value for value, _ in russia} <= set(RUSSIAN_ZONES)
    values = [value for value, _ in others]
    assert values[0] == "UTC"
    assert "America/New_York" in values and "Europe/Berlin" in values
    for value in [v for v, _ in russia] + values:
        assert value != "localtime" and value != "Factory"
        assert not value.startswith(("Etc/", "US/", "SystemV/"))
    assert "Europe/Moscow" not in values  # listed once, under Russia
    assert dict(russia)["Europe/Moscow"] == "Moscow (UTC+03:00)"  # by its city, not its IANA name


def test_the_picker_is_marked_searchable(as_manager):
    html = as_manager.get("/clients/new/").content.decode()
    assert "data-searchable" in html
    assert '<optgroup label="Russia">' in html


@pytest.mark.django_db
def test_a_client_in_an_alias_zone_keeps_it_when_edited():
    client = make_client("79161234567", tz="Etc/GMT-3")
    form = ClientForm(
        data={"phone": client.phone, "operator_code": "", "tag": "x", "timezone": "Etc/GMT-3"},
        instance=client,
    )
    assert form.is_valid(), form.errors
    assert "Etc/GMT-3" in form.as_p()


def test_the_account_page_keeps_a_browser_zone_the_picker_leaves_out():
    from dashboard.forms import TimezoneForm

    html = TimezoneForm(initial={"timezone": "Etc/GMT-3"}).as_p()
    assert '<option value="Etc/GMT-3" selected>' in html
