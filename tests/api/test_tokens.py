"""API tokens: stored hashed, shown once (in the POST's answer, never kept in the session),
revoked after a confirmation, optionally expiring; old DRF keys moved over;
`drf_create_token` prints a new key once."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from security.models import ApiToken
from security.tokens import issue_token
from tests.conftest import FORM_KEY, create_token

pytestmark = pytest.mark.django_db

KEY = re.compile(r'value="([0-9a-f]{40})"')


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_key_is_stored_only_as_its_hash_and_authenticates(viewer):
    key = issue_token(user=viewer)
    stored = ApiToken.objects.get(user=viewer)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert stored.prefix == key[:6]
    assert key not in {str(v) for v in ApiToken.objects.values_list(flat=False).get()}
    assert api(key).get("/api/clients/").status_code == 200


def test_unknown_keys_get_401(db):
    response = api("0" * 40).get("/api/clients/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def stored_sessions() -> str:
    from django.contrib.sessions.models import Session

    return " ".join(str(s.get_decoded()) for s in Session.objects.all())


def test_the_new_key_is_shown_in_the_answer_once_and_never_kept(as_viewer, viewer):
    account = as_viewer.get(reverse("dashboard:account")).content.decode()
    response = create_token(as_viewer, account)
    assert response.status_code == 200
    key = KEY.search(response.content.decode()).group(1)
    assert {"no-store", "private"} <= {d.strip() for d in response["Cache-Control"].split(",")}
    assert api(key).get("/api/clients/").status_code == 200
    assert key not in stored_sessions()  # neither in the session nor anywhere but the answer
    # A reload of that answer posts the same form again: no new token, no key shown.
    again = as_viewer.post(
        reverse("dashboard:api-token"), {"form_key": FORM_KEY.search(account).group(1)}
    )
    assert again.status_code == 302 and again["Location"] == reverse("dashboard:account")
    page = as_viewer.get(reverse("dashboard:account")).content.decode()
    assert key not in page and f"<code>{key[:6]}…</code>" in page
    assert "No token was made: that form had been used already." in page
    assert ApiToken.objects.get(user=viewer).key_hash == hashlib.sha256(key.encode()).hexdigest()
    # Replacing it: a new key, the old one stops at once.
    new_key = KEY.search(create_token(as_viewer).content.decode()).group(1)
    assert new_key != key
    assert api(key).get("/api/clients/").status_code == 401
    assert api(new_key).get("/api/clients/").status_code == 200


def test_a_post_without_the_accounts_form_makes_no_token(as_viewer, viewer):
    as_viewer.get(reverse("dashboard:account"))
    response = as_viewer.post(reverse("dashboard:api-token"), {"form_key": "guessed"})
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=viewer).exists()


def test_keys_an_earlier_version_kept_in_sessions_are_taken_out():
    import importlib

    from django.contrib.sessions.backends.db import SessionStore

    kept = SessionStore()
    kept.update({"herald_new_api_key": "a" * 40, "_auth_user_id": "1"})
    kept.create()
    migration = importlib.import_module(
        "dashboard.migrations.0002_forget_api_keys_kept_in_sessions"
    )
    migration.forget_keys(apps, None)
    assert SessionStore(session_key=kept.session_key).load() == {"_auth_user_id": "1"}


def test_revoking_asks_first_then_the_key_stops_working(as_viewer, viewer):
    key = issue_token(user=viewer)
    account = as_viewer.get(reverse("dashboard:account")).content.decode()
    assert f'href="{reverse("dashboard:api-token-revoke")}"' in account
    confirm = as_viewer.get(reverse("dashboard:api-token-revoke"))
    assert "Revoke your API token?" in confirm.content.decode()
    assert ApiToken.objects.filter(user=viewer).exists()  # asking changes nothing
    done = as_viewer.post(reverse("dashboard:api-token-revoke"), follow=True)
    assert "Your API token is revoked" in done.content.decode()
    assert not ApiToken.objects.filter(user=viewer).exists()
    assert api(key).get("/api/clients/").status_code == 401


def test_a_token_creation_needs_post(as_viewer):
    assert as_viewer.get(reverse("dashboard:api-token")).status_code == 405


def test_tokens_expire_after_the_configured_days(viewer, settings):
    settings.API_TOKEN_TTL_DAYS = 30
    now = timezone.now()
    with time_machine.travel(now, tick=False) as clock:
        key = issue_token(user=viewer)
        assert ApiToken.objects.get(user=viewer).expires_at == now + timedelta(days=30)
        clock.move_to(now + timedelta(days=29, hours=23))
        assert api(key).get("/api/clients/").status_code == 200
        clock.move_to(now + timedelta(days=30, seconds=1))
        response = api(key).get("/api/clients/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_without_a_ttl_tokens_do_not_expire(viewer, settings):
    settings.API_TOKEN_TTL_DAYS = 0
    issue_token(user=viewer)
    assert ApiToken.objects.get(user=viewer).expires_at is None


def test_the_account_page_says_when_a_token_expires(as_viewer, viewer, settings):
    settings.API_TOKEN_TTL_DAYS = 7
    issue_token(user=viewer)
    assert ", expires " in as_viewer.get(reverse("dashboard:account")).content.decode()


def test_an_inactive_users_key_is_refused(viewer):
    key = issue_token(user=viewer)
    viewer.is_active = False
    viewer.save()
    assert api(key).get("/api/clients/").status_code == 401


def test_drf_create_token_prints_a_new_key_once_as_the_readme_reads_it(manager):
    out = io.StringIO()
    call_command("drf_create_token", "manager", stdout=out)
    first = out.getvalue().split()[2]  # what `awk '{print $3}'` takes
    assert out.getvalue() == f"Generated token {first} for user manager\n"
    assert api(first).get("/api/clients/").status_code == 200
    out = io.StringIO()
    call_command("drf_create_token", "manager", "--reset", stdout=out)
    second = out.getvalue().split()[2]
    assert second != first
    assert api(first).get("/api/clients/").status_code == 401


def test_drf_create_token_for_an_unknown_user_is_one_clear_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("drf_create_token", "ghost")


def test_existing_drf_keys_are_moved_to_hashes_and_keep_working(viewer):
    """Migration security/0002: the plain-text table of rest_framework.authtoken."""
    from importlib import import_module

    move_tokens = import_module("security.migrations.0002_move_drf_tokens").move_tokens
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp with time zone NULL, user_id bigint NOT NULL)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created datetime NULL, user_id bigint NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [key, timezone.now(), viewer.pk],
        )
    try:
        # The migration uses only the schema editor's connection.
        move_tokens(apps, SimpleNamespace(connection=connection))
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM authtoken_token")
            assert cursor.fetchone()[0] == 0  # no plain-text key left
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE authtoken_token")
    assert api(key).get("/api/clients/").status_code == 200
    assert ApiToken.objects.get(user=viewer).prefix == "012345"
