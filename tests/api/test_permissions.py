from __future__ import annotations

import pytest

from tests.conftest import make_campaign, make_client, make_user

pytestmark = pytest.mark.django_db

READS = ["/api/clients/", "/api/campaigns/", "/api/stats/", "/api/schema/"]


@pytest.mark.parametrize("url", READS)
def test_anonymous_is_refused(anon_api, url):
    assert anon_api.get(url).status_code in (401, 403)


def test_anonymous_cannot_write(anon_api):
    response = anon_api.post("/api/clients/", {"phone": "79161234567", "timezone": "UTC"})
    assert response.status_code in (401, 403)


def test_token_auth_answers_401_with_bad_token(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert anon_api.get("/api/clients/").status_code == 401


@pytest.mark.parametrize("url", READS)
def test_viewer_reads(viewer_api, url):
    assert viewer_api.get(url).status_code == 200


def test_viewer_cannot_write(viewer_api):
    client = make_client("79161234567")
    campaign = make_campaign()
    assert (
        viewer_api.post("/api/clients/", {"phone": "79261234567", "timezone": "UTC"}).status_code
        == 403
    )
    assert viewer_api.patch(f"/api/clients/{client.pk}/", {"tag": "x"}).status_code == 403
    assert viewer_api.delete(f"/api/clients/{client.pk}/").status_code == 403
    assert viewer_api.post(f"/api/campaigns/{campaign.pk}/pause/").status_code == 403
    assert viewer_api.delete(f"/api/campaigns/{campaign.pk}/").status_code == 403
    client.refresh_from_db()
    campaign.refresh_from_db()
    assert client.tag == "" and campaign.status == "scheduled"


def test_manager_writes(manager_api):
    response = manager_api.post("/api/clients/", {"phone": "79261234567", "timezone": "UTC"})
    assert response.status_code == 201


def test_user_without_role_cannot_read(db):
    from tests.conftest import token_client

    nobody = token_client(make_user("nobody", None))
    assert nobody.get("/api/clients/").status_code == 403


def test_session_auth_works_for_signed_in_browser(client, viewer):
    client.force_login(viewer)
    assert client.get("/api/clients/").status_code == 200


def test_docs_redirect_anonymous_to_login(client):
    response = client.get("/docs/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", ["/api/messages/%C2%B2/", "/api/clients/abc/", "/api/nothing/"])
def test_unknown_api_urls_answer_json_404_not_a_server_error(viewer_api, url):
    response = viewer_api.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
