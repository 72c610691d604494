"""Importing the files a Russian marketer has: what Excel in a Russian locale writes.

Each file is built byte for byte as Excel writes it: "CSV (разделители — запятые)" is
Windows-1251 with `;` and CRLF; "CSV UTF-8" has a byte-order mark, `;` and CRLF; "Текст в
Юникоде" is UTF-16 with tabs; an XLSX keeps a phone typed as a number as a number.
"""

from __future__ import annotations

import codecs
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from messaging import services
from messaging.models import Client
from tests.conftest import make_client

pytestmark = pytest.mark.django_db

URL = "/api/clients/import/"

RUSSIAN_ROWS = [
    ["Телефон", "ФИО", "Тег", "Часовой пояс", "Код оператора"],
    ["+7 (916) 123-45-67", "Анна Иванова", "ВИП", "Москва", ""],
    ["8 926 555 01 02", "Олег", "новый", "Екатеринбург", ""],
    ["79035550103", "", "", "", "903"],
    ["9057770011", "Пётр", "ВИП", "МСК+7", ""],
]
EXPECTED = {
    "79161234567": ("Анна Иванова", "ВИП", "Europe/Moscow", "916"),
    "79265550102": ("Олег", "новый", "Asia/Yekaterinburg", "926"),
    "79035550103": ("", "", "Europe/Moscow", "903"),
    "79057770011": ("Пётр", "ВИП", "Asia/Vladivostok", "905"),
}


def excel_csv(rows, *, encoding: str, bom: bytes = b"", separator: str = ";") -> bytes:
    """As Excel writes a CSV: every line ended by CRLF, the separator between cells."""
    text = "".join(separator.join(row) + "\r\n" for row in rows)
    return bom + text.encode(encoding)


def xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(api, data: bytes, name: str = "clients.csv", **extra):
    return api.post(
        URL,
        {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream"), **extra},
        format="multipart",
    )


def imported() -> dict:
    return {
        phone: (name, tag, zone, code)
        for phone, name, tag, zone, code in Client.objects.values_list(
            "phone", "name", "tag", "timezone", "operator_code"
        )
    }


def test_windows_1251_with_semicolons_and_crlf_as_russian_excel_saves_csv(manager_api):
    data = excel_csv(RUSSIAN_ROWS, encoding="cp1251")
    assert b"\r\n" in data and b";" in data and data[:1] == "Т".encode("cp1251")
    response = upload(manager_api, data)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["rejected_count"]) == (4, 0)
    assert body["read_as"] == "CSV, Windows-1251, separated by «;»"
    assert imported() == EXPECTED


def test_utf8_with_a_byte_order_mark_and_semicolons_as_csv_utf8(manager_api):
    data = excel_csv(RUSSIAN_ROWS, encoding="utf-8", bom=codecs.BOM_UTF8)
    response = upload(manager_api, data)
    assert response.status_code == 200, response.json()
    assert response.json()["read_as"] == "CSV, UTF-8, separated by «;»"
    assert imported() == EXPECTED


def test_unicode_text_is_utf16_with_tabs(manager_api):
    data = excel_csv(RUSSIAN_ROWS, encoding="utf-16", separator="\t")
    response = upload(manager_api, data, name="clients.txt")
    assert response.status_code == 200, response.json()
    assert response.json()["read_as"] == "CSV, UTF-16, separated by tab"
    assert imported() == EXPECTED


def test_an_xlsx_with_the_phone_column_stored_as_numbers(manager_api):
    rows = [
        RUSSIAN_ROWS[0],
        [79161234567, "Анна Иванова", "ВИП", "Москва", None],
        [79265550102.0, "Олег", "новый", "Екатеринбург", None],
        ["79035550103", None, None, None, 903],
        [9057770011, "Пётр", "ВИП", "МСК+7", None],
    ]
    response = upload(manager_api, xlsx(rows), name="clients.xlsx")
    assert response.status_code == 200, response.json()
    assert response.json()["read_as"] == "Excel workbook (XLSX), first sheet"
    assert imported() == EXPECTED


def test_xlsx_rows_are_numbered_as_excel_numbers_them(manager_api):
    rows = [[None], ["Телефон", "Тег"], [79161234567, "a"], [None, None], [7916, "b"]]
    response = upload(manager_api, xlsx(rows), name="clients.xlsx")
    assert response.status_code == 400
    (row,) = response.json()["rejected"]
    assert (row["line"], row["phone"]) == (5, "7916")


def test_a_phone_in_scientific_notation_gets_its_own_message(manager_api):
    data = excel_csv(
        [["Телефон", "Тег"], ["7,91612E+10", "a"], ["7.91612E+10", "b"]], encoding="cp1251"
    )
    response = upload(manager_api, data)
    assert response.status_code == 400
    rows = response.json()["rejected"]
    assert len(rows) == 2
    for row in rows:
        assert "scientific notation" in row["errors"]["phone"][0]
        assert "format the column as text" in row["errors"]["phone"][0]


def test_excel_sep_line_names_the_separator(manager_api):
    data = b"sep=,\r\nphone,tag\r\n79161234567,a;b\r\n"
    response = upload(manager_api, data)
    assert response.status_code == 200, response.json()
    assert Client.objects.get().tag == "a;b"


def test_a_tab_separated_file(manager_api):
    response = upload(manager_api, b"phone\ttag\n79161234567\tvip\n")
    assert response.status_code == 200, response.json()
    assert Client.objects.get().tag == "vip"


def test_an_ascii_header_then_windows_1251_rows_is_read_as_windows_1251(manager_api):
    data = b"phone;tag\r\n" + b"".join(f"7916{i:07d};x\r\n".encode() for i in range(5000))
    data += "79990000000;Москва\r\n".encode("cp1251")
    response = upload(manager_api, data)
    assert response.status_code == 200, response.json()
    assert Client.objects.get(phone="79990000000").tag == "Москва"


def test_an_old_xls_workbook_is_refused_with_what_to_do(manager_api):
    response = upload(manager_api, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "c.xls")
    assert response.status_code == 400
    assert ".xlsx" in response.json()["file"][0]


def test_a_damaged_xlsx_is_a_file_error(manager_api):
    response = upload(manager_api, b"PK\x03\x04" + b"garbage" * 10, "c.xlsx")
    assert response.status_code == 400
    assert "cannot be read" in response.json()["file"][0]


def test_an_xlsx_that_unpacks_too_far_is_refused(settings):
    from messaging.campaigns.imports import MalformedFile

    settings.IMPORT_MAX_BYTES = 4096  # may unpack to 64 KiB
    rows = [["phone", "tag"]] + [[f"7916{i:07d}", "x" * 50] for i in range(2000)]
    with pytest.raises(MalformedFile, match="unpacks to"):
        services.import_clients(data=xlsx(rows))
    assert Client.objects.count() == 0


def test_a_nul_byte_refuses_the_file_with_its_line_in_the_api(manager_api):
    data = b"phone,tag\n79161234567,a\n79161234568,b\x00c\n"
    response = upload(manager_api, data)
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert "Line 3 has a NUL character" in message
    assert Client.objects.count() == 0


def test_a_nul_byte_refuses_the_file_in_the_web_ui_too(as_manager):
    data = b"phone,tag\n79161234567,a\n79161234568,b\x00c\n"
    response = as_manager.post(
        "/clients/import/",
        {
            "file": SimpleUploadedFile("c.csv", data, content_type="text/csv"),
            "skip_invalid_rows": "on",
        },
    )
    assert response.status_code == 400
    assert "Line 3 has a NUL character" in response.content.decode()
    assert Client.objects.count() == 0


def test_a_very_wide_header_is_refused_in_one_pass(manager_api):
    header = ",".join(f"column{i}" for i in range(40_000))
    response = upload(manager_api, (header + "\n" + "1," * 39_999 + "1\n").encode())
    assert response.status_code == 400
    assert "40000 columns" in response.json()["file"][0] or "40,000" in response.json()["file"][0]


def test_repeated_column_names_are_one_problem_each(manager_api):
    header = ",".join(["phone"] * 200 + ["tag"] * 56)
    response = upload(manager_api, (header + "\n").encode())
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert "hold phone" in message and "hold tag" in message
    assert "and 190 more" in message


# --- Columns: names, custom fields, mapping -----------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Телефон", "phone"),
        ("Номер телефона", "phone"),
        ("Мобильный", "phone"),
        ("PHONE_NUMBER", "phone"),
        ("Тег", "tag"),
        ("Метка", "tag"),
        ("Часовой пояс", "timezone"),
        ("Time zone", "timezone"),
        ("Код оператора", "operator_code"),
        ("operator_code", "operator_code"),
        ("ФИО", "name"),
        ("Ф.И.О.", "name"),
        ("Имя", "name"),
        ("field:city", "field:city"),
        ("Поле: город", "field:город"),
    ],
)
def test_header_names_in_english_and_russian(header, field):
    from messaging.campaigns.imports.columns import recognise

    assert recognise(header) == field


def test_custom_fields_from_field_columns_merge_into_the_clients_own(manager_api):
    client = make_client("79161234567")
    client.attributes = {"card": "Gold", "city": "Тверь"}
    client.save()
    data = "phone,name,field:city,field:card\n79161234567,Анна,Казань,\n79261234567,,Омск,Silver\n"
    response = upload(manager_api, data.encode())
    assert response.status_code == 200, response.json()
    client.refresh_from_db()
    # An empty cell removes that field; one the file does not name stays.
    assert (client.name, client.attributes) == ("Анна", {"city": "Казань"})
    assert Client.objects.get(phone="79261234567").attributes == {"city": "Омск", "card": "Silver"}


def test_a_client_never_ends_with_more_custom_fields_than_allowed(manager_api):
    client = make_client("79161234567")
    client.attributes = {f"f{i}": "x" for i in range(19)}
    client.save()
    data = "phone,field:a1,field:a2\n79161234567,1,2\n79261234567,1,2\n"
    response = upload(manager_api, data.encode(), skip_invalid_rows="true")
    body = response.json()
    assert (body["created"], body["updated"], body["rejected_count"]) == (1, 0, 1)
    assert "would have 21 custom fields" in body["rejected"][0]["errors"]["row"][0]
    client.refresh_from_db()
    assert len(client.attributes) == 19


def test_a_column_the_file_lacks_is_left_as_it_is(manager_api):
    client = make_client("79161234567", tag="vip", tz="Asia/Tokyo", code="999")
    response = upload(manager_api, b"phone,name\n79161234567,Anna\n79261234567,Oleg\n")
    assert response.status_code == 200, response.json()
    client.refresh_from_db()
    assert (client.name, client.tag, client.timezone, client.operator_code) == (
        "Anna",
        "vip",
        "Asia/Tokyo",
        "999",
    )
    new = Client.objects.get(phone="79261234567")
    assert (new.tag, new.timezone, new.operator_code) == ("", "Europe/Moscow", "926")


def test_an_empty_time_zone_is_the_default_zone(manager_api, settings):
    settings.CLIENT_DEFAULT_TIMEZONE = "Asia/Omsk"
    response = upload(manager_api, b"phone,timezone\n79161234567,\n79261234567,UTC+5\n")
    assert response.status_code == 200, response.json()
    assert dict(Client.objects.values_list("phone", "timezone")) == {
        "79161234567": "Asia/Omsk",
        "79261234567": "Asia/Yekaterinburg",
    }


def test_the_api_takes_an_explicit_mapping(manager_api):
    data = excel_csv(
        [["Мобила", "Город", "Комментарий"], ["79161234567", "Казань", "позвонить"]],
        encoding="cp1251",
    )
    mapping = '{"Мобила": "phone", "Город": "field:city", "Комментарий": "ignore"}'
    response = upload(manager_api, data, mapping=mapping)
    assert response.status_code == 200, response.json()
    client = Client.objects.get()
    assert (client.phone, client.attributes) == ("79161234567", {"city": "Казань"})


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ('{"Нет такой": "phone"}', "The file has no column «Нет такой»."),
        ('{"Мобила": "birthday"}', "birthday is not a client field"),
        ('{"Мобила": "field:2x"}', "2x is not a field name"),
        ('["phone"]', "Give mapping as an object"),
    ],
)
def test_a_bad_mapping_is_a_field_error(manager_api, mapping, message):
    data = "Мобила,Тег\n79161234567,a\n".encode()
    response = upload(manager_api, data, mapping=mapping)
    assert response.status_code == 400
    assert any(message in m for m in response.json()["mapping"]), response.json()
    assert Client.objects.count() == 0


def test_a_mapping_that_leaves_no_phone_says_so(manager_api):
    response = upload(manager_api, b"phone,tag\n79161234567,a\n", mapping='{"phone": "ignore"}')
    assert response.status_code == 400
    assert "No column holds the phone" in response.json()["file"][0]


def test_preview_shows_the_header_what_is_known_and_the_first_rows():
    data = excel_csv(
        [["Мобила", "Тег"], *[[f"7916000000{i}", "a"] for i in range(8)]], encoding="cp1251"
    )
    preview = services.preview_import(data=data)
    assert preview.header == ["Мобила", "Тег"]
    assert preview.recognised == [None, "tag"]
    assert len(preview.rows) == 5 and preview.rows[0] == ["79160000000", "a"]
    assert preview.read_as == "CSV, Windows-1251, separated by «;»"


def test_row_messages_follow_the_requests_language(manager_api):
    data = excel_csv([["Телефон", "Часовой пояс"], ["7,91612E+10", "Марс"]], encoding="cp1251")
    response = manager_api.post(
        URL,
        {"file": SimpleUploadedFile("c.csv", data)},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    errors = response.json()["rejected"][0]["errors"]
    assert "экспоненциальном виде" in errors["phone"][0]
    assert "«Марс» — не часовой пояс" in errors["timezone"][0]
