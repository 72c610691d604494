"""The audit trail: each kind of event is recorded with user, address and time, logged, and
shown to Managers on /audit/."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client
from django.urls import reverse

from security.models import AuditEvent, AuditKind
from tests.conftest import create_token, make_user

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.10"


def latest(kind: AuditKind) -> AuditEvent:
    return AuditEvent.objects.filter(kind=kind).latest("id")


@pytest.fixture
def audit_log(caplog):
    caplog.set_level(logging.INFO, logger="herald.audit")
    return caplog


def audit_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "herald.audit"]


def test_a_sign_in_is_recorded_and_logged(client, audit_log):
    user = make_user("mara", None)
    credentials = {"username": "mara", "password": "pw-mara"}
    client.post("/accounts/login/", credentials, REMOTE_ADDR=ADDRESS)
    event = latest(AuditKind.SIGN_IN)
    assert (event.user, event.username, event.address) == (user, "mara", ADDRESS)
    assert event.at is not None
    assert f"audit event=sign_in user='mara' user_id={user.pk} address={ADDRESS}" in audit_lines(
        audit_log
    )


def test_a_failed_sign_in_is_recorded_with_the_name_typed(client, audit_log):
    client.post("/accounts/login/", {"username": "nobody", "password": "x"}, REMOTE_ADDR=ADDRESS)
    event = latest(AuditKind.SIGN_IN_FAILED)
    assert (event.user, event.username, event.address) == (None, "nobody", ADDRESS)
    assert any("event=sign_in_failed user='nobody'" in line for line in audit_lines(audit_log))


def test_a_lockout_is_recorded(client, settings, audit_log):
    settings.AXES_FAILURE_LIMIT = 1
    make_user("mara", None)
    client.post("/accounts/login/", {"username": "mara", "password": "x"}, REMOTE_ADDR=ADDRESS)
    event = latest(AuditKind.LOCKED_OUT)
    assert (event.username, event.address) == ("mara", ADDRESS)
    assert any("event=locked_out user='mara'" in line for line in audit_lines(audit_log))


def test_a_sign_out_is_recorded(as_manager, manager):
    as_manager.post(reverse("logout"), REMOTE_ADDR=ADDRESS)
    event = latest(AuditKind.SIGN_OUT)
    assert (event.user, event.address) == (manager, ADDRESS)


def test_token_creation_and_revocation_are_recorded(as_viewer, viewer, audit_log):
    create_token(as_viewer, REMOTE_ADDR=ADDRESS)
    created = latest(AuditKind.TOKEN_CREATED)
    assert (created.user, created.address, created.detail) == (viewer, ADDRESS, "account page")
    create_token(as_viewer, REMOTE_ADDR=ADDRESS)
    assert latest(AuditKind.TOKEN_CREATED).detail == "account page; replaces the previous token"
    as_viewer.post(reverse("dashboard:api-token-revoke"), REMOTE_ADDR=ADDRESS)
    revoked = latest(AuditKind.TOKEN_REVOKED)
    assert (revoked.user, revoked.address) == (viewer, ADDRESS)
    lines = audit_lines(audit_log)
    assert any(line.startswith("audit event=token_created user='viewer'") for line in lines)
    assert any(line.startswith("audit event=token_revoked user='viewer'") for line in lines)


def test_a_token_from_the_command_line_is_recorded(manager):
    from django.core.management import call_command

    call_command("drf_create_token", "manager", stdout=io.StringIO())
    event = latest(AuditKind.TOKEN_CREATED)
    assert (event.user, event.address) == (manager, None)
    assert event.detail == "manage.py drf_create_token"


def test_managers_see_the_audit_page_newest_first_and_by_kind(as_manager):
    make_user("mara", None)
    client = Client()  # mara's browser, not the Manager's
    client.post("/accounts/login/", {"username": "mara", "password": "bad"}, REMOTE_ADDR=ADDRESS)
    client.post("/accounts/login/", {"username": "mara", "password": "pw-mara"})
    page = as_manager.get(reverse("dashboard:audit")).content.decode()
    assert page.index("Signed in") < page.index("Sign-in failed")  # newest first
    assert ADDRESS in page
    failed_only = as_manager.get(reverse("dashboard:audit"), {"kind": "sign_in_failed"})
    assert "Signed in</td>" not in failed_only.content.decode()
    assert "Sign-in failed</td>" in failed_only.content.decode()


def test_a_hostile_user_name_typed_at_sign_in_is_escaped_on_the_audit_page(as_manager):
    typed = '"><img src=x onerror=alert(2)>'
    Client().post("/accounts/login/", {"username": typed, "password": "x"})
    page = as_manager.get(reverse("dashboard:audit")).content.decode()
    assert typed not in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page


def test_viewers_cannot_see_the_audit_page(as_viewer):
    assert as_viewer.get(reverse("dashboard:audit")).status_code == 403


@pytest.mark.parametrize("query", [{"page": "x"}, {"page": "999"}, {"kind": "<b>"}, {"page": "-1"}])
def test_odd_audit_page_queries_are_not_errors(as_manager, query):
    assert as_manager.get(reverse("dashboard:audit"), query).status_code == 200
