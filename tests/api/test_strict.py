"""The API names what it wants: body type (415), auth scheme (401), unknown fields and
times without an offset (400), instead of guessing (issue 15 items 5, 10, 11)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from messaging.models import Campaign, Client
from security.tokens import issue_token
from tests.conftest import make_campaign, make_client

pytestmark = pytest.mark.django_db


def campaign_body(**overrides) -> dict:
    start = timezone.now() + timedelta(hours=1)
    body = {
        "text": "Hello",
        "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=2)).isoformat(),
    }
    body.update(overrides)
    return body


# --- 415 ----------------------------------------------------------------------------------


def test_json_sent_without_its_content_type_is_a_415_that_says_so(manager_api):
    # What `curl -d '{...}'` sends: a form content type with a JSON body.
    response = manager_api.generic(
        "POST",
        "/api/clients/",
        json.dumps({"phone": "79161234567"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["detail"]
    assert Client.objects.count() == 0


def test_a_body_that_is_neither_json_nor_a_form_is_a_415(manager_api):
    response = manager_api.generic(
        "POST", "/api/clients/", "phone=79161234567", content_type="text/plain"
    )
    assert response.status_code == 415


def test_a_real_form_still_works(manager_api):
    response = manager_api.post(
        "/api/clients/", {"phone": "79161234567", "tag": "vip"}, format="multipart"
    )
    assert response.status_code == 201, response.json()


# --- 401 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "Basic", "JWT"])
def test_another_auth_scheme_gets_a_401_naming_token(manager, scheme):
    key = issue_token(user=manager)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    response = api.get("/api/clients/")
    assert response.status_code == 401
    assert "Authorization: Token <key>" in response.json()["detail"]
    assert scheme in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"


def test_the_token_scheme_still_works_in_any_case(manager):
    key = issue_token(user=manager)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"token {key}")
    assert api.get("/api/clients/").status_code == 200


def test_no_credentials_is_a_401_asking_for_a_token(anon_api):
    response = anon_api.get("/api/clients/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


# --- 400 for unknown fields ---------------------------------------------------------------


def test_unknown_client_field_is_named(manager_api):
    response = manager_api.post("/api/clients/", {"phone": "79161234567", "tags": "vip"})
    assert response.status_code == 400
    assert "Unknown field" in response.json()["tags"][0]
    assert "tag" in response.json()["tags"][0]
    assert Client.objects.count() == 0


def test_unknown_field_in_a_client_edit_is_named(manager_api):
    client = make_client("79161234567", tag="a")
    response = manager_api.patch(f"/api/clients/{client.pk}/", {"tag": "b", "zone": "UTC"})
    assert response.status_code == 400
    assert list(response.json()) == ["zone"]
    client.refresh_from_db()
    assert client.tag == "a"


@pytest.mark.parametrize("field", ["timezone", "operator_code"])
def test_unknown_campaign_field_is_named(manager_api, field):
    response = manager_api.post("/api/campaigns/", campaign_body(**{field: "916"}))
    assert response.status_code == 400
    assert "Unknown field" in response.json()[field][0]
    assert "operator_codes" in response.json()[field][0]
    assert Campaign.objects.count() == 0


def test_unknown_field_in_a_campaign_edit_is_named(manager_api):
    campaign = make_campaign()
    response = manager_api.patch(f"/api/campaigns/{campaign.pk}/", {"txt": "new"})
    assert response.status_code == 400
    assert "txt" in response.json()


def test_read_only_fields_sent_back_are_ignored(manager_api):
    client = make_client("79161234567")
    body = manager_api.get(f"/api/clients/{client.pk}/").json()
    body["tag"] = "new"
    response = manager_api.put(f"/api/clients/{client.pk}/", body)
    assert response.status_code == 200, response.json()


def test_unknown_field_in_an_import_is_named(manager_api):
    upload = SimpleUploadedFile("c.csv", b"phone,timezone\n79161234567,UTC\n")
    response = manager_api.post(
        "/api/clients/import/", {"file": upload, "skip_invalid": "true"}, format="multipart"
    )
    assert response.status_code == 400
    assert "skip_invalid" in response.json()
    assert Client.objects.count() == 0


@pytest.mark.parametrize("action", ["pause", "cancel", "retry-failed"])
def test_an_action_that_takes_no_input_names_a_field_sent_to_it(manager_api, action):
    campaign = make_campaign()
    response = manager_api.post(f"/api/campaigns/{campaign.pk}/{action}/", {"reason": "x"})
    assert response.status_code == 400
    assert "reason" in response.json()
    campaign.refresh_from_db()
    assert campaign.status == "scheduled"


# --- Times without an offset --------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-12-01T10:00:00", "2026-12-01 10:00", "2026-12-01"])
def test_a_time_without_an_offset_is_refused_naming_the_field(manager_api, value):
    response = manager_api.post("/api/campaigns/", campaign_body(start_at=value))
    assert response.status_code == 400
    message = response.json()["start_at"][0]
    assert "2026-12-01T10:00:00+03:00" in message
    assert Campaign.objects.count() == 0


def test_an_edit_with_a_time_without_an_offset_is_refused(manager_api):
    campaign = make_campaign()
    response = manager_api.patch(
        f"/api/campaigns/{campaign.pk}/", {"end_at": "2030-01-01T10:00:00"}
    )
    assert response.status_code == 400
    assert "end_at" in response.json()


@pytest.mark.parametrize("suffix", ["Z", "+03:00", "-05:30"])
def test_times_with_an_offset_are_taken_as_given(manager_api, suffix):
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    naive = start.replace(tzinfo=None).isoformat()
    response = manager_api.post(
        "/api/campaigns/",
        campaign_body(start_at=naive + suffix, end_at="2099-01-01T00:00:00Z"),
    )
    assert response.status_code == 201, response.json()


def test_a_signed_in_browser_behind_a_basic_auth_proxy_still_reads_the_api(as_manager):
    response = as_manager.get("/api/clients/", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.status_code == 200
