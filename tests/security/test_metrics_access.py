"""/metrics: a role (session or API token) or METRICS_TOKEN; signed in without a role: no."""

from __future__ import annotations

import pytest
from django.test import override_settings

from security.tokens import issue_token
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_a_signed_in_user_without_a_role_cannot_read_metrics(client):
    client.force_login(make_user("norole", None))
    assert client.get("/metrics").status_code == 401


@pytest.mark.parametrize("role_fixture", ["as_manager", "as_viewer"])
def test_a_signed_in_member_of_a_role_reads_metrics(request, role_fixture):
    response = request.getfixturevalue(role_fixture).get("/metrics")
    assert response.status_code == 200
    assert b"herald_" in response.content


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_a_managers_api_token_reads_metrics(client, manager, scheme):
    key = issue_token(user=manager)
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"{scheme} {key}")
    assert response.status_code == 200


def test_an_api_token_of_a_user_without_a_role_does_not(client):
    key = issue_token(user=make_user("norole", None))
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_a_wrong_api_token_does_not(client, db):
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {'0' * 40}").status_code == 401


@override_settings(METRICS_TOKEN="scrape-secret-1234")
def test_the_metrics_token_still_works(client, db):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-1234").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-12").status_code == 401


def test_guessing_credentials_at_metrics_meets_429(client, settings, db):
    settings.API_THROTTLE_ANON = "3/minute"
    statuses = [
        client.get("/metrics", HTTP_AUTHORIZATION=f"Token {n:040x}", REMOTE_ADDR="203.0.113.20")
        for n in range(4)
    ]
    assert [r.status_code for r in statuses] == [401, 401, 401, 429]
    assert int(statuses[-1]["Retry-After"]) > 0
