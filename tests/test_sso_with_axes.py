"""Auth0 sign-in with the production authentication backends (django-axes first among the
password ones), recorded in the audit like a password sign-in."""

from __future__ import annotations

import pytest

from security.models import AuditEvent, AuditKind
from tests.test_auth0 import auth0, id_token, sign_in, signing_key  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_jwks():
    """This module's signing key is not tests/test_auth0.py's: social-core caches the JWKS per
    process, so forget it before and after, whichever module runs first."""
    from social_core.backends.auth0 import Auth0OAuth2

    Auth0OAuth2.get_jwks_keys_for_uri.invalidate()
    yield
    Auth0OAuth2.get_jwks_keys_for_uri.invalidate()


def test_sso_sign_in_works_with_axes_and_is_audited(
    client,
    fresh_jwks,
    auth0,  # noqa: F811
    signing_key,  # noqa: F811
    settings,
):
    # What config/settings/signin.py builds with the three AUTH0_* settings.
    settings.AUTHENTICATION_BACKENDS = [
        "social_core.backends.auth0.Auth0OAuth2",
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    response = sign_in(client, auth0, id_token(signing_key))
    assert response.status_code == 302 and response["Location"] == "/"
    event = AuditEvent.objects.get(kind=AuditKind.SIGN_IN)
    assert event.user.email == "alice@example.com"
    assert event.detail == "Auth0"
    assert event.address == "127.0.0.1"


def test_settings_put_axes_before_the_password_backend_with_auth0():
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
        "social_core.backends.auth0.Auth0OAuth2",
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
    ], result.stderr
