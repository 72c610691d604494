"""In a real browser: a Russian Excel file whose columns Herald does not know goes through
the column-matching step; the time-zone picker finds "Москва"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from messaging.models import Client
from security.roles import MANAGERS
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# "CSV (разделители — точка с запятой)" from a Russian Excel: Windows-1251, `;`, CRLF.
FILE = (
    "Мобила;Клиент;Город;Комментарий;Часовой пояс\r\n"
    "+7 (916) 123-45-67;Анна;Казань;позвонить;Москва\r\n"
    "8 926 555 01 02;Олег;Омск;;МСК+3\r\n"
).encode("cp1251")


def test_a_file_with_unknown_columns_goes_through_the_matching_step(page):
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/clients/import/")
    page.get_by_label("File (CSV or Excel)").set_input_files(
        {"name": "клиенты.csv", "mimeType": "text/csv", "buffer": FILE}
    )
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="Match the columns")).to_be_visible()
    preview = page.locator("#import-preview")
    expect(preview).to_contain_text("+7 (916) 123-45-67")
    expect(preview).to_contain_text("Казань")
    expect(page.get_by_text("CSV, Windows-1251, separated by «;»")).to_be_visible()
    # Recognised columns come chosen; unknown ones are left out until a person says.
    expect(page.get_by_label("Column «Клиент»")).to_have_value("name")
    expect(page.get_by_label("Column «Часовой пояс»")).to_have_value("timezone")
    expect(page.get_by_label("Column «Мобила»")).to_have_value("")
    screenshot(page, "import-matching")

    # Nothing holds the phone yet: the step says so and saves nothing.
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("No column holds the phone.")).to_be_visible()
    assert Client.objects.count() == 0

    page.get_by_label("Column «Мобила»").select_option("phone")
    page.get_by_label("Column «Город»").select_option("field")
    expect(page.get_by_label("Custom field name for «Город»")).to_have_value("город")
    page.get_by_label("Custom field name for «Город»").fill("city")
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_text("Imported: 2 created, 0 updated.")).to_be_visible()
    clients = {c.phone: c for c in Client.objects.all()}
    assert set(clients) == {"79161234567", "79265550102"}
    anna = clients["79161234567"]
    assert (anna.name, anna.timezone, anna.attributes) == (
        "Анна",
        "Europe/Moscow",
        {"city": "Казань"},
    )
    assert clients["79265550102"].timezone == "Asia/Omsk"  # MSK+3 is UTC+6


def test_the_time_zone_picker_finds_a_russian_city_and_msk_offsets(page):
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/clients/new/")
    picker = page.locator("select#id_timezone")
    search = page.get_by_label("Find a zone by city")
    search.fill("Владивосток")
    expect(picker).to_have_value("Asia/Vladivostok")
    search.fill("мск+4")
    expect(picker).to_have_value("Asia/Novosibirsk")
    search.fill("Москва")
    expect(picker).to_have_value("Europe/Moscow")
    assert picker.locator("option:not([hidden])").count() == 1
