"""Exports that open in Excel: CSV for Excel (UTF-8 with BOM, `;`) and XLSX, read back as
the same rows, never handing a spreadsheet a formula."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from messaging import services
from messaging.models import Client, RejectedRows
from tests.conftest import make_client

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+7 call", "-5% off", "@SUM(A1)"]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def clients() -> list[tuple]:
    return sorted(
        Client.objects.values_list(
            "phone",
            "operator_code",
            "tag",
            "timezone",
            "name",
            "attributes",
            "consent_at",
            "consent_source",
        )
    )


@pytest.fixture
def directory():
    make_client("79161234567", tag="vip", tz="Asia/Tokyo")
    Client.objects.filter(phone="79161234567").update(
        consent_at=datetime(2025, 3, 15, 9, 30, tzinfo=UTC), consent_source="анкета"
    )
    for i, formula in enumerate(FORMULAS):
        client = make_client(f"7926000000{i}", tag=formula, code="999")
        client.name = formula
        client.attributes = {"city": "Казань", "note": formula}
        client.save()
    return clients()


def test_csv_for_excel_has_a_bom_semicolons_and_crlf(as_viewer, directory):
    response = as_viewer.get("/clients/export-excel.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="herald-clients-' in response["Content-Disposition"]
    data = body(response)
    assert data.startswith(codecs.BOM_UTF8)
    lines = data[3:].decode("utf-8").split("\r\n")
    assert lines[0] == (
        "phone;operator_code;tag;timezone;name;consent;consent_source;field:city;field:note"
    )
    # Consent as given, in the client's own zone (Tokyo is UTC+9).
    assert lines[1] == "79161234567;916;vip;Asia/Tokyo;;2025-03-15 18:30:00+09:00;анкета;;"


def test_csv_for_excel_imports_back_as_the_same_rows(as_viewer, directory):
    data = body(as_viewer.get("/clients/export-excel.csv"))
    Client.objects.update(tag="changed", name="changed", attributes={})
    result = services.import_clients(data=data)
    assert (result.created, result.updated, result.rejected_count) == (0, 5, 0)
    assert clients() == directory
    Client.objects.all().delete()  # and into an empty directory, consent and all
    assert services.import_clients(data=data).created == 5
    assert clients() == directory


def test_xlsx_export_is_text_cells_and_imports_back_as_the_same_rows(as_viewer, directory):
    response = as_viewer.get("/clients/export.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    data = body(response)
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]][:7] == [
        "phone",
        "operator_code",
        "tag",
        "timezone",
        "name",
        "consent",
        "consent_source",
    ]
    # Phones are text (Excel would show a number as 7.9E+10), formulas are quoted text.
    assert all(cell.data_type == "s" for row in rows for cell in row if cell.value)
    tags = {row[2].value: row[2] for row in rows[1:]}
    for formula in FORMULAS:
        assert tags[formula].quotePrefix, formula
    Client.objects.all().delete()
    result = services.import_clients(data=data)
    assert (result.created, result.rejected_count) == (5, 0)
    assert clients() == directory


@pytest.mark.parametrize("path", ["/clients/export.csv", "/clients/export-excel.csv"])
def test_no_csv_export_hands_a_spreadsheet_a_formula(as_viewer, directory, path):
    make_client("79990000000", tag="\tTAB", code="999")
    data = body(as_viewer.get(path)).decode("utf-8-sig")
    separator = ";" if "excel" in path else ","
    for row in csv.reader(io.StringIO(data), delimiter=separator):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_an_xlsx_export_too_big_for_a_sheet_says_so(as_viewer, directory, monkeypatch):
    from dashboard.views import clients as views

    monkeypatch.setattr(views, "XLSX_MAX_ROWS", 3)
    response = as_viewer.get("/clients/export.xlsx")
    assert response.status_code == 400
    assert "an Excel sheet cannot hold them" in response.content.decode()


def test_the_list_offers_each_export_with_the_filter(as_viewer):
    html = as_viewer.get("/clients/", {"tag": "vip"}).content.decode()
    for path in ("/clients/export-excel.csv?tag=vip", "/clients/export.xlsx?tag=vip"):
        assert path in html


# --- Rejected rows: fix them in Excel, import the file as it is ---------------------------

BROKEN = "Телефон;Тег;Часовой пояс\r\n79161234567;ok;Москва\r\n79261234567;=cmd;Марс\r\n"


def import_in_ui(as_manager, data: bytes, name="c.csv"):
    return as_manager.post(
        "/clients/import/",
        {
            "file": SimpleUploadedFile(name, data, content_type="text/csv"),
            "skip_invalid_rows": "on",
        },
    )


@pytest.mark.parametrize("form", ["excel", "xlsx"])
def test_rejected_rows_for_excel_import_back_once_fixed(as_manager, form):
    response = import_in_ui(as_manager, BROKEN.encode("cp1251"))
    assert response.status_code == 200
    kept = RejectedRows.objects.get()
    download = as_manager.get(f"/clients/import/rejected/{kept.pk}/{form}/")
    data = body(download)
    if form == "excel":
        assert data.startswith(codecs.BOM_UTF8)
        text = data.decode("utf-8-sig")
        assert text.splitlines()[0] == "Телефон;Тег;Часовой пояс;line;errors"
        assert text.splitlines()[1].startswith("79261234567;'=cmd;Марс;3;")
        fixed = text.replace(";Марс;", ";Самара;").encode("utf-8-sig")
    else:
        book = load_workbook(io.BytesIO(data))
        sheet = book.active
        assert [c.value for c in sheet[2]][:3] == ["79261234567", "=cmd", "Марс"]
        sheet["C2"] = "Самара"
        out = io.BytesIO()
        book.save(out)
        fixed = out.getvalue()
    again = import_in_ui(as_manager, fixed, name=f"fixed.{'xlsx' if form == 'xlsx' else 'csv'}")
    assert 'data-result="created">1<' in again.content.decode()
    client = Client.objects.get(phone="79261234567")
    assert (client.tag, client.timezone) == ("=cmd", "Europe/Samara")


def test_the_api_answers_rejected_rows_for_excel(manager_api):
    response = manager_api.post(
        "/api/clients/import/?rejected_format=excel",
        {"file": SimpleUploadedFile("c.csv", BROKEN.encode("cp1251"))},
        format="multipart",
    )
    assert response.status_code == 400
    assert response["Herald-Import-Rejected"] == "1"
    assert body(response).startswith(codecs.BOM_UTF8 + "Телефон;Тег".encode())


def test_the_api_refuses_an_unknown_rejected_format(manager_api):
    response = manager_api.post(
        "/api/clients/import/?rejected_format=pdf",
        {"file": SimpleUploadedFile("c.csv", b"phone\n79161234567\n")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "rejected_format" in response.json()
    assert Client.objects.count() == 0
