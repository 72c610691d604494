"""Throttled sign-in (django-axes and security/signin.py): counted per user name at an
address, per address and per user name, so that neither a success nor a forged header
resets a count and a stranger cannot lock the real owner out."""

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
PROXY = "10.1.1.1"  # the ingress, in FORWARDED_ALLOW_IPS below
OFFICE = "203.0.113.10"  # where the owner signs in
STRANGER = "198.51.100.66"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SIGNIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 5
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = 20
    settings.SIGNIN_USER_FAILURE_LIMIT = 50
    settings.SIGNIN_SLOWDOWN_SECONDS = 60
    settings.FORWARDED_ALLOW_IPS = [PROXY]


def attempt(client, url, username, password, address="10.0.0.1", **headers):
    return client.post(
        url, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def via_proxy(client, username, password, address):
    """A sign-in that came through the ingress from `address`."""
    return attempt(client, LOGIN, username, password, PROXY, HTTP_X_FORWARDED_FOR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def sign_in_once(client, username, address):
    """The owner signs in from `address`, which makes it a known address, and out again."""
    assert attempt(client, LOGIN, username, f"pw-{username}", address).status_code == 302
    client.logout()


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_five_wrong_passwords_lock_the_user_name_at_that_address(client, url):
    user = make_user("mara", None)
    user.is_staff = user.is_superuser = True
    user.save()
    for _ in range(4):
        assert attempt(client, url, "mara", "wrong").status_code == 200  # the form again
    assert attempt(client, url, "mara", "wrong").status_code == 429
    # Now even the right password is refused from there...
    refused = attempt(client, url, "mara", "pw-mara")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 15 * 60
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "try again in 15 minutes" in refused.content.decode()
    assert not signed_in(client)
    # ...but not from another address: a stranger's guesses do not lock the owner out.
    assert attempt(client, url, "mara", "pw-mara", address="10.9.9.9").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, settings):
    settings.SIGNIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 3
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


def test_knocking_on_a_lock_neither_counts_nor_extends_it(client):
    """One request every few minutes used to keep `admin` locked out for ever."""
    make_user("admin", None)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            attempt(client, LOGIN, "admin", "wrong")
        for minutes in (5, 10, 14):
            clock.move_to(start + timedelta(minutes=minutes))
            refused = attempt(client, LOGIN, "admin", "wrong")
            assert refused.status_code == 429
            assert int(refused["Retry-After"]) == (15 - minutes) * 60
        clock.move_to(start + timedelta(minutes=15, seconds=1))
        assert attempt(client, LOGIN, "admin", "pw-admin").status_code == 302


def test_one_address_guessing_many_user_names_is_locked_out(client, settings):
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = 6
    make_user("victim", None)
    for n in range(6):
        attempt(client, LOGIN, f"guess{n}", "wrong", address="203.0.113.7")
    # Another user name, right password, same address: refused.
    refused = attempt(client, LOGIN, "victim", "pw-victim", address="203.0.113.7")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 15 * 60
    # From another address the user signs in.
    assert attempt(client, LOGIN, "victim", "pw-victim", address="198.51.100.1").status_code == 302


def test_an_interleaved_success_does_not_reset_another_users_count(client):
    """Signed in as a Viewer, 4 wrong passwords for `mgr`, then one good sign-in as
    `viewer`, five rounds: the successes used to clear mgr's failures every time."""
    make_user("mgr", None)
    make_user("viewer", None)
    statuses = []
    for _ in range(5):
        for _ in range(4):
            statuses.append(attempt(client, LOGIN, "mgr", "wrong").status_code)
        assert attempt(client, LOGIN, "viewer", "pw-viewer").status_code == 302
        client.logout()
    assert statuses[:4] == [200] * 4
    assert statuses[4] == 429  # the 5th wrong password for mgr, in the second round
    assert set(statuses[5:]) == {429}
    assert attempt(client, LOGIN, "mgr", "pw-mgr").status_code == 429
    assert not signed_in(client)


def test_a_success_clears_the_users_own_failures_at_that_address(client):
    make_user("mara", None)
    for _ in range(4):
        attempt(client, LOGIN, "mara", "wrong")
    assert attempt(client, LOGIN, "mara", "pw-mara").status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, LOGIN, "mara", "wrong").status_code == 200
    assert attempt(client, LOGIN, "mara", "pw-mara").status_code == 302


def test_forged_addresses_from_a_peer_that_is_no_proxy_are_one_address(client):
    """12 failures, each with another forged X-Forwarded-For: all are the peer's."""
    make_user("mgr", None)
    statuses = [
        attempt(
            client, LOGIN, "mgr", "wrong", STRANGER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        ).status_code
        for n in range(12)
    ]
    assert statuses == [200] * 4 + [429] * 8
    addresses = set(
        AuditEvent.objects.filter(kind=AuditKind.SIGN_IN_FAILED).values_list("address", flat=True)
    )
    assert addresses == {STRANGER}


def test_a_victims_address_cannot_be_locked_out_with_forged_headers(client):
    make_user("victim", None)
    for n in range(25):
        attempt(client, LOGIN, f"name{n}", "wrong", STRANGER, HTTP_X_FORWARDED_FOR=OFFICE)
    assert attempt(client, LOGIN, "x", "y", STRANGER).status_code == 429  # the stranger is
    assert via_proxy(client, "victim", "pw-victim", OFFICE).status_code == 302
    client.logout()
    assert attempt(client, LOGIN, "victim", "pw-victim", OFFICE).status_code == 302
    assert not AuditEvent.objects.filter(kind=AuditKind.SIGN_IN_FAILED, address=OFFICE).exists()


def test_addresses_behind_the_proxy_are_counted_apart(client, settings):
    """Behind the ingress every request comes from its address: the client's is in XFF,
    last entry (the ingress appended it); the entries before were written by the client."""
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = 3
    make_user("victim", None)
    for n in range(3):
        attempt(
            client,
            LOGIN,
            f"guess{n}",
            "x",
            PROXY,
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7",  # spoofed first entry, real last
        )
    failed = AuditEvent.objects.filter(kind=AuditKind.SIGN_IN_FAILED)
    assert list(failed.values_list("address", flat=True)) == ["203.0.113.7"] * 3
    assert via_proxy(client, "x", "y", "203.0.113.7").status_code == 429
    # Someone else behind the same ingress is not locked out.
    assert via_proxy(client, "victim", "pw-victim", "198.51.100.1").status_code == 302


def test_rotating_addresses_are_slowed_down_by_user_name(client, settings):
    """A distributed attack (a new address for every guess, through the proxy) reaches the
    per-user limit; from then on one try per minute from places the user never signed in
    from, and the right password from such a place waits its turn too."""
    settings.SIGNIN_USER_FAILURE_LIMIT = 10
    make_user("mgr", None)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for n in range(10):
            assert via_proxy(client, "mgr", "wrong", f"192.0.2.{n}").status_code == 200
        slowed = via_proxy(client, "mgr", "pw-mgr", "192.0.2.200")
        assert slowed.status_code == 429
        assert int(slowed["Retry-After"]) == 60
        assert "try again in 60 seconds" in slowed.content.decode()
        assert not signed_in(client)
        # Hammering does not push the next try further away.
        clock.move_to(start + timedelta(seconds=30))
        assert via_proxy(client, "mgr", "wrong", "192.0.2.201").status_code == 429
        clock.move_to(start + timedelta(seconds=61))
        assert via_proxy(client, "mgr", "wrong", "192.0.2.202").status_code == 200  # its turn
        assert via_proxy(client, "mgr", "wrong", "192.0.2.203").status_code == 429
        clock.move_to(start + timedelta(seconds=122))
        assert via_proxy(client, "mgr", "pw-mgr", "192.0.2.204").status_code == 302
    details = AuditEvent.objects.filter(kind=AuditKind.SIGN_IN_FAILED).values_list(
        "detail", flat=True
    )
    assert list(details).count("refused: slowed down, too many failures for this user name") == 3


def test_the_owner_signs_in_from_a_known_address_while_a_stranger_hammers_the_name(
    client, settings
):
    settings.SIGNIN_USER_FAILURE_LIMIT = 10
    make_user("mgr", None)
    sign_in_once(client, "mgr", OFFICE)
    # One stranger: locked at their own address after five.
    for _ in range(8):
        attempt(client, LOGIN, "mgr", "wrong", STRANGER)
    assert attempt(client, LOGIN, "mgr", "pw-mgr", STRANGER).status_code == 429
    # Many strangers: past the per-user limit, new places are slowed down.
    for n in range(10):
        via_proxy(client, "mgr", "wrong", f"192.0.2.{n}")
    assert via_proxy(client, "mgr", "pw-mgr", "192.0.2.99").status_code == 429
    # The owner, from where they usually sign in: in at once, through the proxy or not.
    assert via_proxy(client, "mgr", "pw-mgr", OFFICE).status_code == 302
    client.logout()
    assert attempt(client, LOGIN, "mgr", "pw-mgr", OFFICE).status_code == 302


def test_an_address_signed_in_from_long_ago_is_no_longer_known(client, settings):
    settings.SIGNIN_USER_FAILURE_LIMIT = 3
    settings.SIGNIN_KNOWN_ADDRESS_DAYS = 30
    make_user("mgr", None)
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=31), tick=False):
        sign_in_once(client, "mgr", OFFICE)
    with time_machine.travel(start, tick=False):
        for n in range(3):
            via_proxy(client, "mgr", "wrong", f"192.0.2.{n}")
        assert via_proxy(client, "mgr", "pw-mgr", OFFICE).status_code == 429


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


def test_every_failure_the_lockout_and_each_refusal_are_in_the_audit(client, settings):
    settings.SIGNIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 2
    make_user("mara", None)
    attempt(client, LOGIN, "mara", "wrong")
    attempt(client, LOGIN, "mara", "wrong")
    attempt(client, LOGIN, "mara", "pw-mara")
    events = sorted(AuditEvent.objects.values_list("kind", "username", "address", "detail"))
    assert events == [
        (AuditKind.LOCKED_OUT, "mara", "10.0.0.1", "too many failed sign-ins"),
        (AuditKind.SIGN_IN_FAILED, "mara", "10.0.0.1", ""),
        (AuditKind.SIGN_IN_FAILED, "mara", "10.0.0.1", "locked out"),
        (
            AuditKind.SIGN_IN_FAILED,
            "mara",
            "10.0.0.1",
            "refused: user name locked at this address",
        ),
    ]
