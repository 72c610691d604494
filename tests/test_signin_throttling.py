"""Throttled sign-in (django-axes): per user name and per address, on the login form and /admin/."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from security.models import AuditEvent, AuditKind
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


def attempt(client, url, username, password, address="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_five_wrong_passwords_lock_the_user_name_even_with_the_right_one(client, settings, url):
    settings.AXES_FAILURE_LIMIT = 5
    user = make_user("mara", None)
    user.is_staff = user.is_superuser = True
    user.save()
    for _ in range(4):
        assert attempt(client, url, "mara", "wrong").status_code == 200  # the form again
    locked = attempt(client, url, "mara", "wrong")
    assert locked.status_code == 429
    # Now even the right password is refused, from another address too.
    refused = attempt(client, url, "mara", "pw-mara", address="10.9.9.9")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 15 * 60
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "try again in 15 minutes" in refused.content.decode()
    assert not signed_in(client)


def test_the_lockout_ends_after_the_cool_off(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("mara", None)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(3):
            attempt(client, LOGIN, "mara", "wrong")
        assert attempt(client, LOGIN, "mara", "pw-mara").status_code == 429
        clock.move_to(start + timedelta(minutes=16))
        response = attempt(client, LOGIN, "mara", "pw-mara")
    assert response.status_code == 302
    assert signed_in(client)


def test_one_address_guessing_many_user_names_is_locked_out(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    make_user("victim", None)
    for n in range(5):
        attempt(client, LOGIN, f"guess{n}", "wrong", address="203.0.113.7")
    # Another user name, right password, same address: refused.
    assert attempt(client, LOGIN, "victim", "pw-victim", address="203.0.113.7").status_code == 429
    # From another address the user signs in.
    response = attempt(client, LOGIN, "victim", "pw-victim", address="198.51.100.1")
    assert response.status_code == 302


def test_a_success_resets_the_count(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("mara", None)
    attempt(client, LOGIN, "mara", "wrong")
    attempt(client, LOGIN, "mara", "wrong")
    assert attempt(client, LOGIN, "mara", "pw-mara").status_code == 302
    client.logout()
    attempt(client, LOGIN, "mara", "wrong")
    attempt(client, LOGIN, "mara", "wrong")
    assert attempt(client, LOGIN, "mara", "pw-mara").status_code == 302


def test_behind_the_proxy_the_forwarded_address_is_the_one_locked(client, settings):
    """Behind the ingress every request comes from its address: the client's is in XFF."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.FORWARDED_ALLOW_IPS = ["10.1.1.1"]
    make_user("victim", None)
    for n in range(3):
        client.post(
            LOGIN,
            {"username": f"guess{n}", "password": "x"},
            REMOTE_ADDR="10.1.1.1",  # the ingress
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7",  # spoofed first entry, real last
        )
    assert AuditEvent.objects.filter(address="203.0.113.7").count() >= 3
    # Someone else behind the same ingress is not locked out.
    response = client.post(
        LOGIN,
        {"username": "victim", "password": "pw-victim"},
        REMOTE_ADDR="10.1.1.1",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert response.status_code == 302


def test_admin_is_for_superusers_only(client):
    staff = get_user_model().objects.create_user("staff", password="pw-staff", is_staff=True)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(ADMIN_LOGIN)
    root = get_user_model().objects.create_superuser("root", password="pw-root")
    client.force_login(root)
    assert client.get("/admin/").status_code == 200


def test_a_staff_user_cannot_sign_in_to_admin(client):
    get_user_model().objects.create_user("staff", password="pw-staff", is_staff=True)
    response = attempt(client, ADMIN_LOGIN, "staff", "pw-staff")
    assert response.status_code == 200  # the admin login form again, not the admin
    assert "Please enter the correct username and password" in response.content.decode()
    assert not signed_in(client)


def test_every_failure_and_the_lockout_are_in_the_audit(client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    make_user("mara", None)
    attempt(client, LOGIN, "mara", "wrong")
    attempt(client, LOGIN, "mara", "wrong")
    events = sorted(AuditEvent.objects.values_list("kind", "username", "address", "detail"))
    assert events == [
        (AuditKind.LOCKED_OUT, "mara", "10.0.0.1", "too many failed sign-ins"),
        (AuditKind.SIGN_IN_FAILED, "mara", "10.0.0.1", ""),
        (AuditKind.SIGN_IN_FAILED, "mara", "10.0.0.1", "locked out"),
    ]
