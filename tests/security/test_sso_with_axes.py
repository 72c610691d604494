"""Auth0 sign-in with the production authentication backends (django-axes first): audited
like a password sign-in, and its refusals counted against the address like wrong passwords."""

from __future__ import annotations

import pytest

from security.models import AuditEvent, AuditKind
from tests.conftest import make_user
from tests.security.test_auth0 import auth0, id_token, sign_in, signing_key  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_jwks():
    """This module's signing key is not tests/security/test_auth0.py's: social-core caches the JWKS
    per process, so forget it before and after, whichever module runs first."""
    from social_core.backends.auth0 import Auth0OAuth2

    Auth0OAuth2.get_jwks_keys_for_uri.invalidate()
    yield
    Auth0OAuth2.get_jwks_keys_for_uri.invalidate()


def test_sso_sign_in_works_with_axes_and_is_audited(
    client,
    fresh_jwks,
    auth0,  # noqa: F811
    signing_key,  # noqa: F811
):
    response = sign_in(client, auth0, id_token(signing_key))
    assert response.status_code == 302 and response["Location"] == "/"
    event = AuditEvent.objects.get(kind=AuditKind.SIGN_IN)
    assert event.user.email == "alice@example.com"
    assert event.detail == "Auth0"
    assert event.address == "127.0.0.1"


def test_refused_sso_sign_ins_are_audited_and_count_against_the_address(
    client,
    fresh_jwks,
    auth0,  # noqa: F811
    signing_key,  # noqa: F811
    settings,
):
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = 3
    make_user("local", None)
    outsider = id_token(signing_key, email="mallory@evil.example.org", sub="auth0|evil")
    assert sign_in(client, auth0, outsider).status_code == 403
    assert sign_in(client, auth0, id_token(signing_key, email_verified=False)).status_code == 403
    failed = AuditEvent.objects.filter(kind=AuditKind.SIGN_IN_FAILED).order_by("id")
    assert list(failed.values_list("username", "address", "detail")) == [
        ("mallory@evil.example.org", "127.0.0.1", "Auth0; email domain not allowed"),
        ("alice@example.com", "127.0.0.1", "Auth0; email not verified"),
    ]
    # The third refusal reaches the address limit: a lockout, for SSO and passwords alike.
    locked = sign_in(client, auth0, outsider)
    assert locked.status_code == 429
    assert AuditEvent.objects.filter(kind=AuditKind.LOCKED_OUT, address="127.0.0.1").exists()
    refused = sign_in(client, auth0, id_token(signing_key))
    assert refused.status_code == 429 and "Retry-After" in refused
    assert not AuditEvent.objects.filter(kind=AuditKind.SIGN_IN).exists()
    password = client.post("/accounts/login/", {"username": "local", "password": "pw-local"})
    assert password.status_code == 429
    # From another address both work.
    assert (
        client.post(
            "/accounts/login/",
            {"username": "local", "password": "pw-local"},
            REMOTE_ADDR="198.51.100.1",
        ).status_code
        == 302
    )


def test_a_forged_sso_callback_counts_as_a_failure(client, auth0):  # noqa: F811
    from django.urls import reverse

    client.post(reverse("social:begin", args=["auth0"]))
    response = client.get(
        reverse("social:complete", args=["auth0"]), {"code": "x", "state": "forged"}
    )
    assert response.status_code == 403
    event = AuditEvent.objects.get(kind=AuditKind.SIGN_IN_FAILED)
    assert (event.username, event.address) == ("", "127.0.0.1")
    assert event.detail == "Auth0; refused by the provider, or not a valid answer from it"


def test_settings_put_axes_before_every_other_backend_with_auth0():
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "HERALD_ENV_FILE": "",
        "SECRET_KEY": "k" * 50,
        "AUTH0_DOMAIN": "tenant.example.auth0.com",
        "AUTH0_CLIENT_ID": "id",
        "AUTH0_CLIENT_SECRET": "secret",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(*s.AUTHENTICATION_BACKENDS)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == [
        "axes.backends.AxesStandaloneBackend",
        "social_core.backends.auth0.Auth0OAuth2",
        "django.contrib.auth.backends.ModelBackend",
    ], result.stderr
