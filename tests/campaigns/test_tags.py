"""Tags match case-insensitively, Cyrillic too, the same way on SQLite and PostgreSQL:
campaign targeting (the preview count and the INSERT ... SELECT at start), API and UI filters."""

from __future__ import annotations

import pytest
from django.utils import timezone

from messaging.campaigns.validators import tag_key
from messaging.engine.lifecycle import select_targets
from messaging.models import Client, Message
from tests.conftest import make_campaign, make_client

MOSCOW_UPPER = "москва".upper()


@pytest.fixture
def tagged():
    make_client("79160000001", tag="VIP")
    make_client("79160000002", tag="vip")
    make_client("79160000003", tag=" Vip ")
    make_client("79160000004", tag="москва".capitalize())
    make_client("79160000005", tag="москва")
    make_client("79160000006", tag="regular")


@pytest.mark.fast
def test_tag_key_folds_case_and_spaces():
    assert tag_key(" VIP ") == tag_key("vip") == "vip"
    assert tag_key(MOSCOW_UPPER) == tag_key("москва")


@pytest.mark.django_db
def test_campaign_targets_match_tags_in_any_case(tagged):
    campaign = make_campaign(tags=["VIP", MOSCOW_UPPER])
    assert campaign.matching_clients().count() == 5
    created = select_targets(campaign, timezone.now())
    assert created == 5
    phones = set(Message.objects.filter(campaign=campaign).values_list("phone", flat=True))
    assert "79160000006" not in phones and len(phones) == 5


@pytest.mark.django_db
def test_bulk_created_clients_get_their_key(db):
    Client.objects.bulk_create([Client(phone="79160000009", operator_code="916", tag="ОПТ")])
    assert Client.objects.get().tag_key == "опт"


@pytest.mark.django_db
def test_api_tag_filter_and_search_ignore_case(tagged, viewer_api):
    body = viewer_api.get("/api/clients/", {"tag": "vip"}).json()
    assert body["count"] == 3
    body = viewer_api.get("/api/clients/", {"tag": MOSCOW_UPPER}).json()
    assert body["count"] == 2
    body = viewer_api.get("/api/clients/", {"search": MOSCOW_UPPER[:4]}).json()
    assert body["count"] == 2


@pytest.mark.django_db
def test_ui_tag_filter_ignores_case(tagged, as_viewer):
    html = as_viewer.get("/clients/", {"tag": "Москва"}).content.decode()
    assert "+7 (916) 000-00-04" in html and "+7 (916) 000-00-05" in html
    assert "+7 (916) 000-00-01" not in html


@pytest.mark.django_db
def test_campaign_form_preview_counts_any_case(tagged, as_manager):
    html = as_manager.get(
        "/campaigns/new/",
        {"tags": "vip"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="campaign-preview",
    ).content.decode()
    assert "<strong>3</strong> clients match" in html


@pytest.mark.django_db
def test_csv_import_stores_the_key(manager_api):
    csv = "phone,operator_code,tag,timezone\n79251234567,,VIP,Europe/Moscow\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("c.csv", csv.encode(), content_type="text/csv")
    response = manager_api.post("/api/clients/import/", {"file": upload}, format="multipart")
    assert response.status_code in (200, 201), response.json()
    assert Client.objects.get().tag_key == "vip"
    campaign = make_campaign(tags=["vip"])
    assert campaign.matching_clients().count() == 1
