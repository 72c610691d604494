"""In a real browser: the sample CSV, the rejected rows as CSV, and phones typed as people
type them (issue 14 "forgiving input")."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from messaging.models import Client
from security.roles import MANAGERS
from tests.browser.conftest import sign_in
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sample_csv_then_rejected_rows_download(page):
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/clients/import/")

    with page.expect_download() as sample_download:
        page.get_by_role("link", name="Download a sample CSV").click()
    sample = Path(sample_download.value.path()).read_text()
    assert sample.startswith("phone,operator_code,tag,timezone,name\n")

    broken = sample + "7916,,vip,Europe/Moscow,\n79161112233,,vip,Mars/Base,\n"
    page.get_by_label("File (CSV or Excel)").set_input_files(
        {"name": "clients.csv", "mimeType": "text/csv", "buffer": broken.encode()}
    )
    page.get_by_label("Import the valid rows even if some rows are invalid").check()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported: 3 created, 0 updated, 2 rejected.")).to_be_visible()
    assert sorted(Client.objects.values_list("phone", flat=True)) == [
        "79035550103",
        "79161234567",
        "79265550102",
    ]

    with page.expect_download() as rejected_download:
        page.get_by_role("link", name="CSV (UTF-8, commas)").click()
    rows = list(csv.reader(io.StringIO(Path(rejected_download.value.path()).read_text())))
    assert rows[0] == ["phone", "operator_code", "tag", "timezone", "name", "line", "errors"]
    assert [(r[0], r[5]) for r in rows[1:]] == [("7916", "5"), ("79161112233", "6")]
    assert rows[2][6].startswith("Mars/Base is not a time zone Herald knows")  # no "timezone:"

    with page.expect_download() as for_excel:
        page.get_by_role("link", name="CSV for Excel").click()
    data = Path(for_excel.value.path()).read_bytes()
    assert data.startswith("\ufeffphone;operator_code;tag;timezone;name;line;errors".encode())


def test_a_phone_typed_with_spaces_and_brackets_is_saved_as_digits(page):
    make_user("mara", MANAGERS)
    sign_in(page, "mara", "pw-mara")
    page.goto("/clients/")
    page.get_by_role("link", name="Add client").click()
    dialog = page.get_by_role("dialog", name="Add a client")
    dialog.get_by_label("Phone").fill("8 (916) 123-45-67")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("link", name="+7 (916) 123-45-67", exact=True)).to_be_visible()

    page.get_by_label("Search").fill("7916123456\u00b2")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Use the digits 0-9 only").first).to_be_visible()
    expect(page.get_by_role("link", name="+7 (916) 123-45-67", exact=True)).to_have_count(0)
