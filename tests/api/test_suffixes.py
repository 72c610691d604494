"""Format suffixes are not routes: a 404, never a 500 (the audit's `stats.json`)."""

from __future__ import annotations

import pytest

from tests.conftest import make_campaign, make_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/api/campaigns/{campaign}/stats.json",
        "/api/campaigns/{campaign}/stats.api",
        "/api/campaigns/{campaign}.json",
        "/api/campaigns.json",
        "/api/clients/{client}.json",
        "/api/clients.json",
        "/api/clients/import.json",
        "/api/messages.json",
        "/api/campaigns/{campaign}/pause.json",
        "/api/.json",
    ],
)
def test_a_format_suffix_is_a_404_in_json(manager_api, path):
    campaign = make_campaign(name="Spring")
    client = make_client("79161234567")
    url = path.format(campaign=campaign.pk, client=client.pk)
    for response in (manager_api.get(url), manager_api.post(url)):
        assert response.status_code == 404, url
        assert response.json() == {"detail": "Not found."}


def test_the_format_is_chosen_by_the_query_or_accept_header(manager_api):
    campaign = make_campaign(name="Spring")
    response = manager_api.get(f"/api/campaigns/{campaign.pk}/stats/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
