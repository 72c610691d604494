"""Consent comes in with the client list: a column of «да», ticks or dates, as marketers keep it.

An import only ever adds consent (the first given is kept, with where it was given); «нет»
or an empty cell leaves the client as they are. A promotional campaign then reaches the
clients the file gave consent for, and no one else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from messaging.campaigns.imports.consent import parse_consent
from messaging.models import Client
from tests.api.test_drafts import draft_body
from tests.campaigns.test_import_excel_files import excel_csv, upload, xlsx
from tests.conftest import make_client

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def consent_of(phone: str) -> tuple[datetime | None, str]:
    client = Client.objects.get(phone=phone)
    return client.consent_at, client.consent_source


@pytest.mark.fast
@pytest.mark.parametrize("cell", ["да", "Да", "ДА.", "yes", "TRUE", "1", "+", "х", "x", "✓"])
def test_yes_words_and_ticks_give_consent_now(cell):
    assert parse_consent(cell, now=NOW, zone=MOSCOW) == NOW


@pytest.mark.fast
@pytest.mark.parametrize("cell", ["", "  ", "нет", "Нет", "no", "FALSE", "0", "-", "—"])
def test_no_words_and_empty_cells_say_nothing(cell):
    assert parse_consent(cell, now=NOW, zone=MOSCOW) is None


@pytest.mark.fast
@pytest.mark.parametrize(
    ("cell", "given"),
    [
        ("15.03.2025", datetime(2025, 3, 15, tzinfo=MOSCOW)),
        ("5/3/25", datetime(2025, 3, 5, tzinfo=MOSCOW)),
        ("15.03.2025 14:30", datetime(2025, 3, 15, 14, 30, tzinfo=MOSCOW)),
        ("2025-03-15", datetime(2025, 3, 15, tzinfo=MOSCOW)),
        ("2025-03-15 09:00:00", datetime(2025, 3, 15, 9, tzinfo=MOSCOW)),
        ("2025-03-15T09:00:00+00:00", datetime(2025, 3, 15, 9, tzinfo=UTC)),
    ],
)
def test_a_date_is_when_consent_was_given_in_the_clients_zone(cell, given):
    assert parse_consent(cell, now=NOW, zone=MOSCOW) == given


@pytest.mark.fast
@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("может быть", "write «да» or «нет»"),
        ("31.02.2025", "write «да» or «нет»"),
        ("01.01.2027", "in the future"),
        ("01.01.1925", "check the year"),
    ],
)
def test_anything_else_is_refused_with_what_to_write(cell, message):
    with pytest.raises(ValidationError) as caught:
        parse_consent(cell, now=NOW, zone=MOSCOW)
    assert message in caught.value.messages[0]


RUSSIAN_CONSENT = [
    ["Телефон", "Имя", "Согласие на рассылку", "Источник согласия"],
    ["+7 (916) 000-00-01", "Анна", "да", "анкета в магазине"],
    ["8 916 000 00 02", "Олег", "15.03.2025", ""],
    ["79160000003", "Пётр", "нет", ""],
    ["79160000004", "Ира", "", ""],
]


@pytest.mark.django_db
def test_a_russian_excel_csv_gives_consent_to_the_rows_that_say_so(manager_api):
    before = timezone.now()
    data = excel_csv(RUSSIAN_CONSENT, encoding="cp1251")
    response = upload(manager_api, data)
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 4

    given, source = consent_of("79160000001")
    assert before <= given <= timezone.now() and source == "анкета в магазине"
    given, source = consent_of("79160000002")
    assert given == datetime(2025, 3, 15, tzinfo=MOSCOW)
    assert source == f"import of {before.date().isoformat()}"  # no source written: the import
    assert consent_of("79160000003") == (None, "")
    assert consent_of("79160000004") == (None, "")


@pytest.mark.django_db
def test_an_import_only_adds_consent_never_moves_or_withdraws_it(manager_api):
    first = datetime(2024, 1, 10, tzinfo=UTC)
    for phone in ("79160000001", "79160000002"):
        Client.objects.create(phone=phone, consent_at=first, consent_source="договор")
    make_client("79160000003")
    rows = [
        ["phone", "consent", "consent_source"],
        ["79160000001", "нет", "звонок"],  # no withdrawal by import
        ["79160000002", "01.05.2025", "сайт"],  # the first consent is kept
        ["79160000003", "да", "сайт"],  # an existing client gains consent
    ]
    response = upload(manager_api, excel_csv(rows, encoding="utf-8", separator=","))
    assert response.status_code == 200, response.json()
    assert response.json()["updated"] == 3
    assert consent_of("79160000001") == (first, "договор")
    assert consent_of("79160000002") == (first, "договор")
    given, source = consent_of("79160000003")
    assert given is not None and source == "сайт"


@pytest.mark.django_db
def test_a_consent_cell_herald_cannot_read_refuses_the_file_naming_the_row(manager_api):
    rows = [["Телефон", "Согласие"], ["79160000001", "да"], ["79160000002", "может быть"]]
    response = upload(manager_api, excel_csv(rows, encoding="utf-8"))
    assert response.status_code == 400
    body = response.json()
    assert body["imported"] is False
    (row,) = body["rejected"]
    assert row["line"] == 3 and "может быть" in row["errors"]["consent"][0]
    assert not Client.objects.exists()  # nothing half-saved


@pytest.mark.django_db
def test_a_source_column_without_a_consent_column_is_refused(manager_api):
    rows = [["phone", "consent_source"], ["79160000001", "сайт"]]
    response = upload(manager_api, excel_csv(rows, encoding="utf-8", separator=","))
    assert response.status_code == 400
    assert "none holds the consent" in str(response.json())
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_an_xlsx_date_cell_and_a_mapped_column_give_consent(manager_api):
    workbook = xlsx(
        [
            ["Телефон", "Отметка"],
            ["79160000001", datetime(2025, 2, 1)],
            ["79160000002", "✓"],
        ]
    )
    response = upload(manager_api, workbook, "clients.xlsx", mapping='{"Отметка": "consent"}')
    assert response.status_code == 200, response.json()
    assert consent_of("79160000001")[0] == datetime(2025, 2, 1, tzinfo=MOSCOW)
    assert consent_of("79160000002")[0] is not None


@pytest.mark.django_db
def test_a_promotional_campaign_reaches_the_clients_the_file_gave_consent(manager_api):
    upload(manager_api, excel_csv(RUSSIAN_CONSENT, encoding="cp1251"))
    body = draft_body(promotional=True)
    campaign_id = manager_api.post("/api/campaigns/", body, format="json").json()["id"]
    review = manager_api.get(f"/api/campaigns/{campaign_id}/review/").json()
    assert review["recipients"] == 2  # «да» and the dated consent; not «нет», not empty
    launched = manager_api.post(f"/api/campaigns/{campaign_id}/launch/", format="json")
    assert launched.status_code in (200, 202), launched.json()
    phones = set(
        Client.objects.filter(messages__campaign_id=campaign_id).values_list("phone", flat=True)
    )
    assert phones == {"79160000001", "79160000002"}


@pytest.mark.django_db
def test_the_web_ui_matching_step_takes_a_column_as_consent(as_manager):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    data = excel_csv([["Телефон", "Отметка"], ["79160000001", "да"]], encoding="cp1251")
    upload_file = SimpleUploadedFile("clients.csv", data, content_type="text/csv")
    response = as_manager.post(reverse("dashboard:client-import"), {"file": upload_file})
    assert response.status_code == 302, response.content.decode()[:2000]
    matching = as_manager.get(response["Location"]).content.decode()
    assert 'value="consent"' in matching  # offered for the unknown column
    done = as_manager.post(response["Location"], {"column_0": "phone", "column_1": "consent"})
    assert done.status_code in (200, 302)
    assert consent_of("79160000001")[0] is not None
