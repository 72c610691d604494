from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_openapi_schema_validates(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/clients/",
        "/api/clients/import/",
        "/api/campaigns/{id}/pause/",
        "/api/campaigns/{id}/stats/",
        "/api/campaigns/{campaign_pk}/messages/",
        "/api/messages/{id}/",
        "/api/stats/",
    ):
        assert f"{path}:" in text


def test_schema_served_as_json_to_a_signed_in_user(viewer_api):
    response = viewer_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_swagger_ui_is_served_from_local_static_files(client, viewer):
    client.force_login(viewer)
    response = client.get("/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_fields_the_api_answers_with_null_are_nullable_in_the_schema(viewer_api):
    # A campaign never launched from a draft answers launched_by: null (found by fuzzing
    # the answers against the schema).
    schema = viewer_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    campaign = schema["components"]["schemas"]["Campaign"]["properties"]
    assert campaign["launched_by"].get("nullable") is True
    assert campaign["launched_at"].get("nullable") is True
