"""Forwarded headers are believed only from FORWARDED_ALLOW_IPS, the proxies gunicorn trusts too.

tests/ops/test_headers_under_gunicorn.py checks the same under a real gunicorn.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from core.deployment import forwarded_allow_ips
from security.addresses import client_ip, is_proxy
from security.models import AuditEvent, AuditKind
from tests.conftest import make_user

INGRESS = "10.244.0.0/16"


def request_from(peer: str, forwarded_for: str | None = None):
    headers = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **headers)


@pytest.mark.fast
@override_settings(FORWARDED_ALLOW_IPS=[INGRESS, "::1"])
@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        # Not a proxy: whatever it writes is its own invention.
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),
        # The ingress: the last entry is the one it appended.
        ("10.244.3.7", "198.51.100.1", "198.51.100.1"),
        ("10.244.3.7", "1.2.3.4, 198.51.100.1", "198.51.100.1"),
        # Two proxies of ours in a row: the client is the first address that is not ours.
        ("10.244.3.7", "1.2.3.4, 198.51.100.1, 10.244.9.9", "198.51.100.1"),
        ("::1", "2001:db8::7", "2001:db8::7"),
        # From the proxy without the header, or with only proxies in it: the nearest hop.
        ("10.244.3.7", None, "10.244.3.7"),
        ("10.244.3.7", "10.244.1.1", "10.244.1.1"),
        # Garbage where the proxy's entry should be: the nearest address we can vouch for.
        ("10.244.3.7", "198.51.100.1, not-an-address", "10.244.3.7"),
        # A peer without an IP address (a UNIX socket, so a local proxy): what it says.
        ("", "198.51.100.1", "198.51.100.1"),
        ("unix:/run/herald.sock", None, None),
    ],
)
def test_the_client_address_comes_from_forwarded_for_only_through_a_proxy(
    peer, forwarded_for, expected
):
    assert client_ip(request_from(peer, forwarded_for)) == expected


@pytest.mark.fast
@override_settings(FORWARDED_ALLOW_IPS=["*"])
def test_a_star_trusts_every_peer_as_gunicorn_does():
    assert is_proxy("203.0.113.5")
    assert client_ip(request_from("203.0.113.5", "198.51.100.1")) == "198.51.100.1"


@pytest.mark.fast
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("127.0.0.1,::1", ["127.0.0.1", "::1"]),
        (" 10.244.0.0/16 , 192.0.2.7 ,", ["10.244.0.0/16", "192.0.2.7"]),
        ("*", ["*"]),
        ("", []),
    ],
)
def test_forwarded_allow_ips_is_read_as_gunicorn_reads_it(raw, expected):
    assert forwarded_allow_ips(raw) == expected


@pytest.mark.fast
@pytest.mark.parametrize("raw", ["10.244.0.5/16", "ingress", "10.0.0.0/33"])
def test_a_value_gunicorn_would_refuse_stops_the_start(raw):
    with pytest.raises(ImproperlyConfigured, match="FORWARDED_ALLOW_IPS"):
        forwarded_allow_ips(raw)


def _settings(**env: str) -> subprocess.CompletedProcess:
    code = "import config.settings as s; print(s.FORWARDED_ALLOW_IPS)"
    environ = {k: v for k, v in os.environ.items() if k not in ("FORWARDED_ALLOW_IPS",)}
    environ.update({"HERALD_ENV_FILE": "", "SECRET_KEY": "k" * 50, **env})
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )


@pytest.mark.fast
def test_django_and_gunicorn_read_the_same_setting_with_the_same_default():
    gunicorn = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy; print(runpy.run_path('config/gunicorn.py')['forwarded_allow_ips'])",
        ],
        env={k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gunicorn.stdout.strip() == "127.0.0.1,::1", gunicorn.stderr
    assert _settings().stdout.strip() == "['127.0.0.1', '::1']"
    assert _settings(FORWARDED_ALLOW_IPS=INGRESS).stdout.strip() == f"['{INGRESS}']"


@pytest.mark.fast
def test_the_old_proxy_count_setting_is_refused_with_a_pointer_to_the_new_one():
    result = _settings(TRUSTED_PROXIES="1")
    assert result.returncode != 0
    assert "TRUSTED_PROXIES is no longer read" in result.stderr
    assert "FORWARDED_ALLOW_IPS" in result.stderr


@pytest.mark.django_db
@override_settings(
    FORWARDED_ALLOW_IPS=["10.1.1.1"],
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_SSL_REDIRECT=True,
)
def test_the_scheme_comes_from_x_forwarded_proto_only_through_a_proxy(client):
    forged = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="8.8.8.8")
    assert forged.status_code == 301
    assert forged["Location"] == "https://testserver/accounts/login/"
    proxied = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.1.1.1")
    assert proxied.status_code == 200


@pytest.mark.django_db
@override_settings(FORWARDED_ALLOW_IPS=["10.1.1.1"])
def test_the_audit_stores_the_real_peer_of_a_forged_address(client):
    make_user("mara", None)
    client.post(
        "/accounts/login/",
        {"username": "mara", "password": "wrong"},
        REMOTE_ADDR="198.51.100.66",
        HTTP_X_FORWARDED_FOR="203.0.113.10",
    )
    event = AuditEvent.objects.get(kind=AuditKind.SIGN_IN_FAILED)
    assert event.address == "198.51.100.66"


@pytest.mark.django_db
@override_settings(FORWARDED_ALLOW_IPS=["10.1.1.1"], API_THROTTLE_ANON="5/minute")
def test_wrong_api_keys_with_rotating_forged_addresses_are_one_address(client):
    statuses = [
        client.get(
            "/api/clients/",
            HTTP_AUTHORIZATION=f"Token {n:040d}",
            REMOTE_ADDR="198.51.100.66",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        ).status_code
        for n in range(8)
    ]
    assert statuses == [401] * 5 + [429] * 3
