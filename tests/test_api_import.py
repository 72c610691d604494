from __future__ import annotations

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
    assert response.json() == {"imported": True, "created": 2, "updated": 1, "rejected": []}
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


def test_repeated_phone_in_file_is_a_row_error(manager_api):
    response = upload(
        manager_api, "phone,operator_code,tag,timezone\n79161111111,,a,UTC\n79161111111,,b,UTC\n"
    )
    assert response.status_code == 400
    assert response.json()["rejected"][0]["line"] == 3
    assert Client.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00bad", "UTF-8"),
        (b"name,number\nfoo,1\n", "Header"),
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
