from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from messaging.models import Client
from tests.conftest import make_client

pytestmark = pytest.mark.django_db

URL = "/api/clients/import/"


def upload(api, text: str | bytes, **extra):
    data = text.encode() if isinstance(text, str) else text
    return api.post(
        URL,
        {"file": SimpleUploadedFile("clients.csv", data, content_type="text/csv"), **extra},
        format="multipart",
    )


def test_import_creates_and_updates_by_phone(manager_api):
    make_client("79161111111", tag="old", tz="UTC")
    response = upload(
        manager_api,
        "phone,operator_code,tag,timezone\n"
        "79161111111,,vip,Europe/Moscow\n"
        "79262222222,999,new,Asia/Tokyo\n"
        "79263333333,,,UTC\n",
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "imported": True,
        "created": 2,
        "updated": 1,
        "repeated": 0,
        "rejected_count": 0,
        "rejected": [],
        "read_as": "CSV, UTF-8, separated by «,»",
    }
    updated = Client.objects.get(phone="79161111111")
    assert (updated.tag, updated.timezone, updated.operator_code) == ("vip", "Europe/Moscow", "916")
    assert Client.objects.get(phone="79262222222").operator_code == "999"
    assert Client.objects.get(phone="79263333333").operator_code == "926"


def test_malformed_csv_row_rejects_file_with_row_report_and_saves_nothing(manager_api):
    response = upload(
        manager_api,
        "phone,operator_code,tag,timezone\n"
        "79161111111,,vip,Europe/Moscow\n"
        "8916,,vip,Europe/Moscow\n"
        "79262222222,12,,Nowhere/Town\n"
        "79263333333,,\n",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["imported"] is False
    assert [r["line"] for r in body["rejected"]] == [3, 4, 5]
    assert "phone" in body["rejected"][0]["errors"]
    assert set(body["rejected"][1]["errors"]) == {"operator_code", "timezone"}
    assert "row" in body["rejected"][2]["errors"]
    assert Client.objects.count() == 0


def test_skip_invalid_rows_saves_valid_ones_and_reports_the_rest(manager_api):
    response = upload(
        manager_api,
        "phone,operator_code,tag,timezone\n79161111111,,vip,UTC\nbad,,vip,UTC\n",
        skip_invalid_rows="true",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], len(body["rejected"])) == (1, 1)
    assert body["rejected"][0]["phone"] == "bad"
    assert list(Client.objects.values_list("phone", flat=True)) == ["79161111111"]


def test_a_phone_repeated_in_the_file_takes_its_last_row_and_is_counted(manager_api):
    make_client("79162222222", tag="before")
    response = upload(
        manager_api,
        "phone,operator_code,tag,timezone\n79161111111,,a,UTC\n79162222222,,x,UTC\n"
        "79161111111,,b,UTC\n8 916 111-11-11,,c,Asia/Tokyo\n79162222222,,y,UTC\n",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["updated"], body["repeated"]) == (1, 1, 3)
    assert body["rejected"] == []
    assert dict(Client.objects.values_list("phone", "tag")) == {
        "79161111111": "c",
        "79162222222": "y",
    }
    assert Client.objects.get(phone="79161111111").timezone == "Asia/Tokyo"


def test_repeats_across_upsert_batches_count_once_each(manager_api):
    from messaging.campaigns.imports.upsert import UPSERT_BATCH

    rows = [f"7916{i:07d},,first,UTC" for i in range(UPSERT_BATCH + 5)]
    rows += [f"7916{i:07d},,second,UTC" for i in range(3)]  # written by the first batch
    response = upload(manager_api, HEADER + "\n".join(rows) + "\n")
    body = response.json()
    assert (body["created"], body["updated"], body["repeated"]) == (UPSERT_BATCH + 5, 0, 3)
    assert Client.objects.filter(tag="second").count() == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00\xd8", "Line 1"),
        (b"name,tag\nfoo,1\n", "No column holds the phone"),
        (b'phone,operator_code,tag,timezone\n"79161111111,,a,UTC\n', "Line"),
    ],
)
def test_malformed_file_is_rejected_whole(manager_api, content, message):
    response = upload(manager_api, content)
    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert Client.objects.count() == 0


def test_import_without_file_is_a_field_error(manager_api):
    response = manager_api.post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_viewer_cannot_import(viewer_api):
    response = upload(viewer_api, "phone,operator_code,tag,timezone\n79161111111,,a,UTC\n")
    assert response.status_code == 403
    assert Client.objects.count() == 0


def test_a_bad_skip_invalid_rows_is_a_field_error(manager_api):
    response = upload(manager_api, "phone,operator_code,tag,timezone\n", skip_invalid_rows="{}")
    assert response.status_code == 400
    assert "skip_invalid_rows" in response.json()


# --- Messages that say what is wrong (issue 15 item 9) ------------------------------------

HEADER = "phone,operator_code,tag,timezone\n"


def test_a_short_row_is_reported_with_its_phone(manager_api):
    response = upload(manager_api, HEADER + "79161111111,916\n+7 (926) 222-22-22,,x\n")
    assert response.status_code == 400
    rows = response.json()["rejected"]
    assert [(r["line"], r["phone"]) for r in rows] == [(2, "79161111111"), (3, "79262222222")]
    assert rows[0]["errors"] == {"row": ["Expected 4 values, found 2."]}


def test_every_unknown_column_is_named_with_how_to_map_it(manager_api):
    response = upload(manager_api, "Мобила,Город,Комментарий\n79161111111,Казань,x\n")
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert "Herald does not know the column(s) «Мобила», «Город», «Комментарий»" in message
    assert "Give mapping" in message
    assert Client.objects.count() == 0


def test_a_semicolon_separated_file_is_read(manager_api):
    response = upload(manager_api, "phone;operator_code;tag;timezone\n79161111111;;vip;UTC\n")
    assert response.status_code == 200, response.json()
    assert response.json()["read_as"] == "CSV, UTF-8, separated by «;»"
    assert Client.objects.get().tag == "vip"


def test_a_file_without_a_header_gets_a_hint_and_values_as_written(manager_api):
    response = upload(manager_api, "79161111111,,VIP,Europe/Moscow\n")
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert "looks like a client, not a header" in message
    assert "phone,operator_code,tag,timezone" in message


def test_unknown_columns_are_named_as_written(manager_api):
    response = upload(manager_api, "phone,Time-Zone!,Ник\n79161111111,UTC,x\n")
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert "«Ник»" in message and "Time" not in message  # Time-Zone! is a time zone


# --- Size limit, streaming, capped report, rejected rows as CSV (issue 12 item 7) ---------


def test_a_file_over_the_limit_is_a_413_with_a_clear_message(manager_api, settings):
    settings.IMPORT_MAX_BYTES = 2048
    body = HEADER + "".join(f"7916{i:07d},,,UTC\n" for i in range(200))
    response = upload(manager_api, body)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "larger than the import limit of 2,048 bytes" in response.json()["detail"]
    assert response.json()["max_bytes"] == 2048
    assert Client.objects.count() == 0


def test_a_request_declaring_too_many_bytes_is_refused_before_it_is_read(manager_api, settings):
    settings.IMPORT_MAX_BYTES = 2048
    response = manager_api.generic(
        "POST",
        URL,
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=zzz",
        CONTENT_LENGTH=str(10 * 1024 * 1024),
    )
    assert response.status_code == 413


def test_the_ui_refuses_a_file_over_the_same_limit(as_manager, settings):
    settings.IMPORT_MAX_BYTES = 2048
    body = HEADER + "".join(f"7916{i:07d},,,UTC\n" for i in range(200))
    response = as_manager.post(
        "/clients/import/",
        {"file": SimpleUploadedFile("c.csv", body.encode(), content_type="text/csv")},
    )
    assert response.status_code == 400
    assert "larger than" in response.content.decode()


class ChunkCountingFile(io.BytesIO):
    """A binary file that fails the test if anyone reads it whole."""

    largest = 0

    def _note(self, size):
        if size is None or size < 0:
            raise AssertionError("the import read the whole file at once")
        self.largest = max(self.largest, size)

    def read(self, size=-1):
        self._note(size)
        return super().read(size)

    def read1(self, size=-1):
        self._note(size)
        return super().read1(size)

    def readinto(self, buffer):
        self._note(len(buffer))
        return super().readinto(buffer)


def test_the_import_reads_the_file_in_chunks():
    from messaging import services

    rows = 20_000
    data = ChunkCountingFile(
        (HEADER + "".join(f"7916{i:07d},,t,UTC\n" for i in range(rows))).encode()
    )
    result = services.import_clients_csv(data=data)
    assert (result.created, result.rejected_count) == (rows, 0)
    assert data.largest <= 64 * 1024
    assert Client.objects.count() == rows


def test_the_report_lists_the_first_1000_rejected_rows_and_counts_all(manager_api):
    body = HEADER + "79160000000,,ok,UTC\n" + "".join(f"bad{i},,,UTC\n" for i in range(1500))
    response = upload(manager_api, body, skip_invalid_rows="true")
    assert response.status_code == 200
    report = response.json()
    assert report["rejected_count"] == 1500
    assert len(report["rejected"]) == 1000
    assert report["rejected"][0]["phone"] == "bad0"
    assert report["rejected"][-1]["phone"] == "bad999"
    assert report["created"] == 1


def test_rejected_rows_csv_has_every_rejected_row_and_imports_once_fixed(manager_api):
    body = (
        HEADER
        + "79160000000,,ok,UTC\n"
        + "".join(f"7926{i:07d},,'=cmd,Mars/Base\n" for i in range(1200))
    )
    response = manager_api.post(
        URL + "?rejected_csv=1",
        {"file": SimpleUploadedFile("c.csv", body.encode(), content_type="text/csv")},
        format="multipart",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/csv")
    assert response["Herald-Import-Imported"] == "false"
    assert response["Herald-Import-Rejected"] == "1200"
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["phone", "operator_code", "tag", "timezone", "line", "errors"]
    assert len(rows) == 1201
    assert rows[1] == [
        "79260000000",
        "",
        "'=cmd",
        "Mars/Base",
        "3",
        "Mars/Base is not a time zone Herald knows: write a city (Moscow, "
        "Novosibirsk), MSK+N, UTC+N or an IANA name such as America/New_York.",
    ]
    assert Client.objects.count() == 0

    fixed = text.replace("Mars/Base", "Asia/Tokyo")
    again = upload(manager_api, fixed)
    assert again.status_code == 200, again.json()
    assert again.json()["created"] == 1200
    assert Client.objects.filter(tag="=cmd").count() == 1200


def test_the_sample_csv_imports_as_it_is(manager_api):
    sample = manager_api.get(URL + "sample/")
    assert sample.status_code == 200
    assert sample["Content-Type"].startswith("text/csv")
    response = upload(manager_api, sample.content)
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 3
