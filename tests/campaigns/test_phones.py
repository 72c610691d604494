"""Phones are ASCII digits everywhere, and typed numbers are read the same way everywhere.

One test per way a phone comes in with foreign digits (API, form, CSV, search): each is a
400 or a form error, never a 201 or a 500. Python's `\\d` and `isdigit()` accept "²" and
"٩"; the provider needs an int64, so those digits crashed the sender or turned two stored
numbers into one (issue 10 item 2, issue 12 item 5).
"""

from __future__ import annotations

import importlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from messaging.campaigns.phones import normalise_phone
from messaging.models import Client, Message
from tests.conftest import make_campaign, make_client

ARABIC_ZERO, FULLWIDTH_ZERO = 0x0660, 0xFF10


def foreign(digits: str, zero: int, keep: int = 0) -> str:
    """`digits` written with another script's digits (after the first `keep` ASCII ones)."""
    return digits[:keep] + "".join(chr(zero + int(d)) for d in digits[keep:])


ARABIC_INDIC = foreign("79161234567", ARABIC_ZERO, keep=1)  # 7 then Arabic-Indic digits
SUPERSCRIPT = "7916123456\u00b2"
FULLWIDTH = foreign("79161234567", FULLWIDTH_ZERO)
BAD_DIGITS = [ARABIC_INDIC, SUPERSCRIPT, FULLWIDTH]


@pytest.mark.fast
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("79161234567", "79161234567"),
        ("+79161234567", "79161234567"),
        ("+7 (916) 123-45-67", "79161234567"),
        ("8 916 123 45 67", "79161234567"),
        ("89161234567", "79161234567"),
        ("(916) 123-45-67", "79161234567"),
        (" 7.916.123.45.67 ", "79161234567"),
        # Not ours to guess: comes back as typed and the validator refuses it.
        ("+1 916 123 45 67", "+1 916 123 45 67"),
        ("7916123456", "7916123456"),
        ("79161234567\n", "79161234567"),
        (ARABIC_INDIC, ARABIC_INDIC),
        (SUPERSCRIPT, SUPERSCRIPT),
    ],
)
def test_normalise_phone_reads_the_common_ways_of_typing_a_number(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.fast
@pytest.mark.parametrize("phone", [*BAD_DIGITS, "79161234567\n"])
def test_the_model_refuses_anything_but_eleven_ascii_digits(phone):
    with pytest.raises(ValidationError) as caught:
        Client(phone=phone, timezone="UTC").full_clean()
    assert "phone" in caught.value.message_dict


# --- API ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("phone", BAD_DIGITS)
def test_api_refuses_a_phone_with_other_digits(manager_api, phone):
    response = manager_api.post("/api/clients/", {"phone": phone, "timezone": "UTC"})
    assert response.status_code == 400, response.json()
    assert "0-9" in response.json()["phone"][0]
    assert Client.objects.count() == 0


@pytest.mark.django_db
def test_api_refuses_other_digits_in_an_edit_too(manager_api):
    client = make_client("79161234567")
    response = manager_api.patch(f"/api/clients/{client.pk}/", {"phone": SUPERSCRIPT})
    assert response.status_code == 400
    client.refresh_from_db()
    assert client.phone == "79161234567"


@pytest.mark.django_db
def test_api_normalises_a_typed_phone_and_answers_the_stored_form(manager_api):
    response = manager_api.post("/api/clients/", {"phone": "+7 (916) 123-45-67"})
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "79161234567"
    assert response.json()["operator_code"] == "916"
    again = manager_api.post("/api/clients/", {"phone": "8 916 123 45 67"})
    assert again.status_code == 400
    assert "already exists" in again.json()["phone"][0]


@pytest.mark.django_db
def test_api_client_time_zone_defaults_to_the_setting(manager_api, settings):
    settings.CLIENT_DEFAULT_TIMEZONE = "Asia/Vladivostok"
    response = manager_api.post("/api/clients/", {"phone": "79161234567"})
    assert response.status_code == 201
    assert response.json()["timezone"] == "Asia/Vladivostok"


# --- Web form -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("phone", BAD_DIGITS)
def test_form_shows_an_error_for_a_phone_with_other_digits(as_manager, phone):
    response = as_manager.post(
        reverse("dashboard:client-create"), {"phone": phone, "tag": "", "timezone": "UTC"}
    )
    assert response.status_code == 400
    assert "Use the digits 0-9 only" in response.content.decode()
    assert Client.objects.count() == 0


@pytest.mark.django_db
def test_form_normalises_a_typed_phone(as_manager):
    response = as_manager.post(
        reverse("dashboard:client-create"),
        {"phone": "8 (926) 555-01-02", "tag": "", "timezone": "UTC"},
    )
    assert response.status_code == 302
    assert Client.objects.get().phone == "79265550102"


# --- CSV import ---------------------------------------------------------------------------


def _csv(*rows: str) -> SimpleUploadedFile:
    text = "phone,operator_code,tag,timezone\n" + "".join(r + "\n" for r in rows)
    return SimpleUploadedFile("c.csv", text.encode(), content_type="text/csv")


@pytest.mark.django_db
@pytest.mark.parametrize("phone", BAD_DIGITS)
def test_csv_import_rejects_a_row_with_other_digits(manager_api, phone):
    response = manager_api.post(
        "/api/clients/import/", {"file": _csv(f"{phone},,vip,UTC")}, format="multipart"
    )
    assert response.status_code == 400
    (row,) = response.json()["rejected"]
    assert "0-9" in row["errors"]["phone"][0]
    assert Client.objects.count() == 0


@pytest.mark.django_db
def test_csv_import_in_the_ui_rejects_other_digits(as_manager):
    response = as_manager.post(
        reverse("dashboard:client-import"), {"file": _csv(f"{SUPERSCRIPT},,vip,UTC")}
    )
    assert response.status_code == 400
    assert "Use the digits 0-9 only" in response.content.decode()
    assert Client.objects.count() == 0


@pytest.mark.django_db
def test_csv_import_normalises_typed_phones(manager_api):
    response = manager_api.post(
        "/api/clients/import/",
        {"file": _csv('"+7 (916) 123-45-67",,a,UTC', "8 926 555 01 02,,b,UTC")},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert sorted(Client.objects.values_list("phone", "operator_code")) == [
        ("79161234567", "916"),
        ("79265550102", "926"),
    ]


@pytest.mark.django_db
def test_csv_import_sees_a_number_typed_twice_two_ways_as_a_repeat(manager_api):
    response = manager_api.post(
        "/api/clients/import/",
        {"file": _csv("79161234567,,a,UTC", "8 916 123 45 67,,b,UTC")},
        format="multipart",
    )
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["repeated"]) == (1, 1)
    assert Client.objects.get().tag == "b"  # the last row wins


# --- Search -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "search", ["\u00b2", foreign("7916", ARABIC_ZERO, keep=1), foreign("7916", FULLWIDTH_ZERO)]
)
def test_api_search_with_other_digits_is_a_400_not_a_500(viewer_api, search):
    make_client("79161234567")
    response = viewer_api.get("/api/clients/", {"search": search})
    assert response.status_code == 400
    assert "0-9" in response.json()["search"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("search", ["\u00b2", foreign("7916", ARABIC_ZERO, keep=1)])
def test_ui_search_with_other_digits_shows_a_form_error_and_no_rows(as_viewer, search):
    make_client("79161234567")
    response = as_viewer.get(reverse("dashboard:client-list"), {"search": search})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Use the digits 0-9 only" in html
    assert "79161234567" not in html
    export = as_viewer.get(reverse("dashboard:client-export"), {"search": search})
    assert export.status_code == 400


@pytest.mark.django_db
def test_search_reads_a_typed_prefix_and_keeps_tag_text(viewer_api):
    make_client("79161234567", tag="vip\u00b2")
    make_client("79261234567", tag="new")

    def phones(search):
        response = viewer_api.get("/api/clients/", {"search": search})
        assert response.status_code == 200, response.json()
        return [c["phone"] for c in response.json()["results"]]

    assert phones("+7 (916)") == ["79161234567"]
    assert phones("8 926") == ["79261234567"]
    assert phones("vip\u00b2") == ["79161234567"]  # letters with it: a tag search


# --- Rows stored before the rule ------------------------------------------------------------


@pytest.mark.django_db
def test_data_migration_fixes_unambiguous_rows_and_reports_the_rest(capsys):
    from django.apps import apps

    repair = importlib.import_module(
        "messaging.migrations.0018_client_phones_ascii_digits"
    ).repair_phones
    taken = make_client("79260000000")
    fixable = make_client("79161111111")
    clash = make_client("79162222222")
    hopeless = make_client("79163333333")
    ok = make_client("79164444444")
    # Stored before the validators were strict (an update skips validation, as old code did).
    Client.objects.filter(pk=fixable.pk).update(phone=foreign("79161111111", ARABIC_ZERO, keep=1))
    Client.objects.filter(pk=clash.pk).update(phone=foreign("7926000000", FULLWIDTH_ZERO) + "0")
    Client.objects.filter(pk=hopeless.pk).update(phone=SUPERSCRIPT)
    campaign = make_campaign()
    Message.objects.create(
        campaign=campaign, client=fixable, phone=foreign("79161111111", ARABIC_ZERO, keep=1)
    )

    repair(apps, None)

    out = capsys.readouterr().out
    assert "3 client(s) stored with a phone that is not 11 ASCII digits" in out
    assert f"fixed client_id={fixable.pk}" in out and "(1 message(s))" in out
    assert f"NOT fixed client_id={clash.pk}" in out and "belongs to another client" in out
    assert f"NOT fixed client_id={hopeless.pk}" in out
    assert Client.objects.get(pk=fixable.pk).phone == "79161111111"
    assert Message.objects.get().phone == "79161111111"
    assert Client.objects.get(pk=clash.pk).phone == foreign("7926000000", FULLWIDTH_ZERO) + "0"
    assert Client.objects.get(pk=hopeless.pk).phone == SUPERSCRIPT
    assert Client.objects.get(pk=ok.pk).phone == "79164444444"
    assert Client.objects.get(pk=taken.pk).phone == "79260000000"


@pytest.mark.django_db
def test_operator_codes_with_other_digits_are_refused_too(manager_api):
    code = foreign("916", ARABIC_ZERO)
    response = manager_api.post("/api/clients/", {"phone": "79161234567", "operator_code": code})
    assert response.status_code == 400
    assert "operator_code" in response.json()
    start = "2099-01-01T10:00:00Z"
    response = manager_api.post(
        "/api/campaigns/",
        {
            "text": "x",
            "start_at": start,
            "end_at": "2099-01-02T10:00:00Z",
            "operator_codes": [code],
        },
    )
    assert response.status_code == 400
    assert "operator_codes" in response.json()
