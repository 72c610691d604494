"""DRF throttles: per user or token, and per address for anonymous requests and wrong keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from security.tokens import issue_token

pytestmark = pytest.mark.django_db


def test_a_token_over_its_rate_gets_429_with_retry_after(viewer, settings):
    settings.API_THROTTLE_USER = "3/minute"
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=viewer)}")
    now = timezone.now()
    with time_machine.travel(now, tick=False) as clock:
        assert [api.get("/api/clients/").status_code for _ in range(3)] == [200, 200, 200]
        refused = api.get("/api/clients/")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "60"
        assert "throttled" in refused.json()["detail"].lower()
        clock.move_to(now + timedelta(seconds=61))
        assert api.get("/api/clients/").status_code == 200


def test_each_user_has_a_rate_of_their_own(viewer, manager, settings):
    settings.API_THROTTLE_USER = "2/minute"
    first, second = APIClient(), APIClient()
    first.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=viewer)}")
    second.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=manager)}")
    for _ in range(2):
        first.get("/api/clients/")
    assert first.get("/api/clients/").status_code == 429
    assert second.get("/api/clients/").status_code == 200


def test_a_browser_session_is_throttled_as_its_user(as_viewer, settings):
    settings.API_THROTTLE_USER = "2/minute"
    assert [as_viewer.get("/api/clients/").status_code for _ in range(3)] == [200, 200, 429]


def test_guessing_keys_from_one_address_gets_429_after_the_anonymous_rate(db, settings):
    """The audit's 200 random tokens got 401 each and never 429."""
    settings.API_THROTTLE_ANON = "5/minute"
    statuses = []
    for n in range(8):
        api = APIClient(REMOTE_ADDR="203.0.113.9")
        api.credentials(HTTP_AUTHORIZATION=f"Token {n:040x}")
        statuses.append(api.get("/api/clients/"))
    assert [r.status_code for r in statuses] == [401] * 5 + [429] * 3
    assert int(statuses[-1]["Retry-After"]) > 0
    # Another address is not affected.
    other = APIClient(REMOTE_ADDR="198.51.100.2")
    other.credentials(HTTP_AUTHORIZATION=f"Token {'f' * 40}")
    assert other.get("/api/clients/").status_code == 401


def test_anonymous_requests_count_against_their_address(db, settings):
    settings.API_THROTTLE_ANON = "3/minute"
    api = APIClient(REMOTE_ADDR="203.0.113.10")
    assert [api.get("/api/stats/").status_code for _ in range(4)] == [401, 401, 401, 429]


def test_a_valid_key_is_not_held_back_by_its_addresses_anonymous_count(viewer, settings):
    settings.API_THROTTLE_ANON = "2/minute"
    anonymous = APIClient(REMOTE_ADDR="203.0.113.11")
    for _ in range(3):
        anonymous.get("/api/clients/")
    api = APIClient(REMOTE_ADDR="203.0.113.11")
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=viewer)}")
    assert api.get("/api/clients/").status_code == 200


def test_throttles_can_be_turned_off(viewer, settings):
    settings.API_THROTTLE_USER = None
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=viewer)}")
    assert {api.get("/api/stats/").status_code for _ in range(30)} == {200}


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [("100/minute", "100/minute"), (" 5 / S ", "5/s"), ("off", None), ("0", None)],
)
def test_throttle_rate_settings(monkeypatch, raw, parsed):
    from core.env import env_rate

    monkeypatch.setenv("API_THROTTLE_USER", raw)
    assert env_rate("API_THROTTLE_USER", "1/day") == parsed


def test_a_bad_throttle_rate_names_the_setting(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from core.env import env_rate

    monkeypatch.setenv("API_THROTTLE_ANON", "fast")
    with pytest.raises(ImproperlyConfigured, match="API_THROTTLE_ANON must be a rate"):
        env_rate("API_THROTTLE_ANON", "60/minute")


def test_guessing_with_another_scheme_counts_against_the_address_too(db, settings):
    settings.API_THROTTLE_ANON = "3/minute"
    api = APIClient(REMOTE_ADDR="203.0.113.12")
    statuses = []
    for n in range(4):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {n:040x}")
        statuses.append(api.get("/api/clients/").status_code)
    assert statuses == [401, 401, 401, 429]
