"""Merge tags in a campaign's text: which fields are known, the refusal of the others in the
form and the API, and SMS parts counted on the longest rendering among the recipients.
(What each client is sent: tests/engine/test_merge_tags.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.campaigns import merge
from messaging.models import Campaign, Client, ClientField
from tests.conftest import make_client
from tests.dashboard.test_campaigns import form_data
from tests.engine.conftest import local_provider, provider  # noqa: F401 (fixtures)
from tests.engine.test_test_send import URL as TEST_SEND_URL
from tests.engine.test_test_send import to_local_provider  # noqa: F401 (fixture)


def client_with(phone: str, name: str = "", **attributes) -> Client:
    client = make_client(phone)
    client.name, client.attributes = name, attributes
    client.save()
    return client


def campaign_body(text: str, **extra) -> dict:
    now = timezone.now()
    return {
        "text": text,
        "start_at": (now + timedelta(hours=1)).isoformat(),
        "end_at": (now + timedelta(hours=3)).isoformat(),
        "draft": True,
        **extra,
    }


@pytest.mark.fast
def test_rendering_fills_fields_and_fallbacks_and_leaves_other_braces():
    text = "Hi {name|there}, {city}! {Not a tag} {1} {name}"
    assert merge.render(text, "Anna", {"city": "Kazan"}) == "Hi Anna, Kazan! {Not a tag} {1} Anna"
    assert merge.render(text, "  ", {}) == "Hi there, ! {Not a tag} {1} "


@pytest.mark.django_db
def test_known_fields_are_name_and_every_custom_field_a_client_was_given():
    assert merge.known_fields() == ["name"]
    client_with("79161234567", city="Kazan")
    client = client_with("79161234568", card="Gold")
    client.delete()  # a field stays known when its clients go: the text renders the fallback
    assert merge.known_fields() == ["name", "card", "city"]


@pytest.mark.django_db
def test_an_import_makes_its_custom_fields_known(manager_api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "c.csv", "телефон;имя;поле:город\n79161234567;Анна;Казань\n".encode()
    )
    answer = manager_api.post("/api/clients/import/", {"file": upload}, format="multipart")
    assert answer.status_code == 200, answer.json()
    assert ClientField.known() == {"город"}
    assert (
        manager_api.post(
            "/api/campaigns/", campaign_body("{name}, ждём вас в {город}"), format="json"
        ).status_code
        == 201
    )


@pytest.mark.django_db
def test_an_unknown_field_is_a_400_naming_it(manager_api):
    client_with("79161234567", city="Kazan")
    answer = manager_api.post(
        "/api/campaigns/", campaign_body("Hi {name}, {citty|}!"), format="json"
    )
    assert answer.status_code == 400
    (message,) = answer.json()["text"]
    assert "{citty}" in message and "{city}" in message and "{name}" in message
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_an_unknown_field_is_a_form_error_naming_it(as_manager):
    response = as_manager.post(
        reverse("dashboard:campaign-create"), form_data(text="Hello {first_name}")
    )
    assert response.status_code == 400
    assert "Unknown field {first_name}" in response.content.decode()
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_the_review_counts_parts_on_the_longest_rendering(manager_api):
    # 60 GSM-7 characters of text; a long name takes one client past 160 (two parts).
    client_with("79161234567", "Al")
    client_with("79161234568", "B" * 120)
    client_with("79161234569")
    text = "Dear {name|customer}, " + "x" * 60
    campaign_id = manager_api.post("/api/campaigns/", campaign_body(text), format="json").json()[
        "id"
    ]
    review = manager_api.get(f"/api/campaigns/{campaign_id}/review/").json()
    assert review["parts_per_message"] == 2
    assert review["total_parts"] == 6
    assert review["longest_text"] == "Dear " + "B" * 120 + ", " + "x" * 60


@pytest.mark.django_db
def test_a_field_that_makes_the_text_ucs2_counts_though_shorter(manager_api):
    # A Latin text of 100 characters: one GSM-7 part; "Анна" makes it UCS-2: two parts,
    # although the longest rendering by characters is another client's.
    client_with("79161234567", "Anna-Maria")
    client_with("79161234568", "Анна")
    text = "Dear {name}, " + "x" * 90
    campaign_id = manager_api.post("/api/campaigns/", campaign_body(text), format="json").json()[
        "id"
    ]
    review = manager_api.get(f"/api/campaigns/{campaign_id}/review/").json()
    assert (review["parts_per_message"], review["encoding"]) == (2, "UCS-2")


@pytest.mark.django_db
def test_sms_max_parts_is_checked_on_the_longest_rendering(manager_api, settings):
    settings.SMS_MAX_PARTS = 1
    client_with("79161234567", "B" * 150)
    text = "Hi {name|you}! " + "x" * 20  # 36 characters with the fallback, 171 for B...
    answer = manager_api.post("/api/campaigns/", campaign_body(text), format="json")
    assert answer.status_code == 400
    (message,) = answer.json()["text"]
    assert message.startswith("Filled in for the recipient with the longest fields:")
    assert "2 SMS parts" in message
    # The same text for clients with short names fits.
    Client.objects.update(name="Bob")
    assert (
        manager_api.post("/api/campaigns/", campaign_body(text), format="json").status_code == 201
    )


@pytest.mark.django_db
def test_the_composer_lists_the_fields_and_previews_a_real_recipient(as_manager):
    client_with("79161234567", "Анна", city="Казань")
    page = as_manager.get(reverse("dashboard:campaign-create")).content.decode()
    assert 'data-merge-tag="{name}"' in page and 'data-merge-tag="{city}"' in page
    preview = as_manager.get(
        reverse("dashboard:campaign-create"),
        {"text": "Привет, {name|друг}! {city}", "operator_codes": "", "tags": ""},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="campaign-preview",
    ).content.decode()
    assert "+7 (916) 123-45-67" in preview
    assert "Привет, Анна! Казань" in preview
    unknown = as_manager.get(
        reverse("dashboard:campaign-create"),
        {"text": "Привет, {nmae}", "operator_codes": "", "tags": ""},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="campaign-preview",
    ).content.decode()
    assert "No client has {nmae}" in unknown


@pytest.mark.django_db
def test_a_test_send_renders_the_text_for_that_client(as_manager, to_local_provider):  # noqa: F811
    client_with("79161234567", "Анна")
    response = as_manager.post(
        TEST_SEND_URL,
        {"text": "Привет, {name|друг}!", "test_phone": "+7 916 123-45-67"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="test-send-result",
    )
    assert response.status_code == 200, response.content.decode()
    (receipt,) = to_local_provider.receipts()["receipts"].values()
    assert receipt["text"] == "Привет, Анна!"
    # A phone that is nobody's gets the fallbacks.
    as_manager.post(TEST_SEND_URL, {"text": "Привет, {name|друг}!", "test_phone": "79160000000"})
    texts = {r["text"] for r in to_local_provider.receipts()["receipts"].values()}
    assert texts == {"Привет, Анна!", "Привет, друг!"}
