"""Auth0 single sign-on end to end, with Auth0's token and key endpoints faked by `responses`.

The id_token is a real RS256 JWT signed with a key made here and published as
the fake tenant's JWKS, so social-auth verifies signature, audience and issuer
exactly as it would against Auth0.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from social_core.backends import utils as backend_utils

from security.roles import MANAGERS, VIEWERS
from tests.conftest import make_user

DOMAIN = "herald-test.eu.auth0.com"
CLIENT_ID = "herald-client-id"
CLIENT_SECRET = "herald-client-secret"
KID = "test-key-1"


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def auth0(settings, signing_key):
    settings.AUTH0_ENABLED = True
    settings.AUTH0_DOMAIN = DOMAIN
    settings.AUTH0_CLIENT_ID = CLIENT_ID
    settings.AUTH0_CLIENT_SECRET = CLIENT_SECRET
    settings.AUTH0_ALLOWED_DOMAINS = ["example.com"]
    settings.DEFAULT_ROLE = VIEWERS
    settings.SOCIAL_AUTH_AUTH0_DOMAIN = DOMAIN
    settings.SOCIAL_AUTH_AUTH0_KEY = CLIENT_ID
    settings.SOCIAL_AUTH_AUTH0_SECRET = CLIENT_SECRET
    # What config/settings/signin.py builds with the three AUTH0_* settings.
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "social_core.backends.auth0.Auth0OAuth2",
        "django.contrib.auth.backends.ModelBackend",
    ]
    backend_utils.BACKENDSCACHE.clear()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"https://{DOMAIN}/.well-known/jwks.json", json={"keys": [jwk]})
        yield mock
    backend_utils.BACKENDSCACHE.clear()


def id_token(signing_key, **claims) -> str:
    now = int(time.time())
    payload = {
        "iss": f"https://{DOMAIN}/",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 600,
        "sub": "auth0|abc123",
        "nickname": "alice",
        "name": "Alice Example",
        "email": "alice@example.com",
        "email_verified": True,
    }
    payload.update(claims)
    return jwt.encode(payload, signing_key, algorithm="RS256", headers={"kid": KID})


def sign_in(client, auth0, token: str):
    """Click "Sign in with Auth0", come back from Auth0 with a code; return the final response."""
    login = client.get(reverse("login")).content.decode()
    begin_url = reverse("social:begin", args=["auth0"])
    assert f'action="{begin_url}"' in login
    assert client.get(begin_url).status_code == 405  # starting needs a POST
    start = client.post(begin_url)
    authorize = urlsplit(start["Location"])
    assert (authorize.netloc, authorize.path) == (DOMAIN, "/authorize")
    query = parse_qs(authorize.query)
    assert query["client_id"] == [CLIENT_ID]
    assert "email" in query["scope"][0]
    auth0.post(
        f"https://{DOMAIN}/oauth/token",
        json={"access_token": "at", "id_token": token, "token_type": "Bearer", "expires_in": 60},
    )
    return client.get(
        reverse("social:complete", args=["auth0"]),
        {"code": "the-code", "state": query["state"][0]},
    )


@pytest.mark.django_db
def test_sso_sign_in_creates_a_user_with_the_default_role(client, auth0, signing_key):
    response = sign_in(client, auth0, id_token(signing_key))
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = get_user_model().objects.get(email="alice@example.com")
    assert list(user.groups.values_list("name", flat=True)) == [VIEWERS]
    assert not user.has_usable_password()
    home = client.get("/")
    assert home.status_code == 200
    assert "Viewer" in home.content.decode()
    token_call = next(c for c in auth0.calls if c.request.url.endswith("/oauth/token"))
    assert "code=the-code" in token_call.request.body


@pytest.mark.django_db
def test_a_returning_sso_user_keeps_their_role(client, auth0, signing_key):
    sign_in(client, auth0, id_token(signing_key))
    user = get_user_model().objects.get(email="alice@example.com")
    user.groups.clear()
    user.groups.add(Group.objects.get(name=MANAGERS))
    client.logout()
    sign_in(client, auth0, id_token(signing_key))
    assert get_user_model().objects.filter(email="alice@example.com").count() == 1
    assert list(user.groups.values_list("name", flat=True)) == [MANAGERS]


@pytest.mark.django_db
def test_an_unverified_email_is_refused_and_no_user_is_created(client, auth0, signing_key):
    response = sign_in(client, auth0, id_token(signing_key, email_verified=False))
    html = response.content.decode()
    assert response.status_code == 403
    assert "Sign-in refused" in html
    assert "alice@example.com is not verified" in html
    assert not get_user_model().objects.exists()
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_an_email_outside_the_allowed_domains_is_refused(client, auth0, signing_key):
    token = id_token(signing_key, email="mallory@evil.example.org", sub="auth0|evil")
    response = sign_in(client, auth0, token)
    assert response.status_code == 403
    assert "Accounts of evil.example.org may not sign in" in response.content.decode()
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_a_token_signed_by_another_key_is_refused(client, auth0):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = sign_in(client, auth0, id_token(other))
    assert response.status_code in (400, 403, 502)
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_a_forged_state_is_refused(client, auth0, signing_key):
    client.post(reverse("social:begin", args=["auth0"]))
    response = client.get(
        reverse("social:complete", args=["auth0"]), {"code": "x", "state": "forged"}
    )
    assert response.status_code == 403
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_logout_of_an_sso_session_goes_through_auth0(client, auth0, signing_key):
    sign_in(client, auth0, id_token(signing_key))
    response = client.post(reverse("logout"))
    target = urlsplit(response["Location"])
    assert (target.netloc, target.path) == (DOMAIN, "/v2/logout")
    assert parse_qs(target.query) == {
        "client_id": [CLIENT_ID],
        "returnTo": ["http://testserver/accounts/login/"],
    }
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_password_sign_in_stays_available_and_logs_out_locally(client, auth0):
    make_user("local", VIEWERS)
    response = client.post(reverse("login"), {"username": "local", "password": "pw-local"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    response = client.post(reverse("logout"))
    assert response["Location"] == "http://testserver/accounts/login/"


@pytest.mark.django_db
def test_without_auth0_the_login_page_offers_only_the_password(client, settings):
    settings.AUTH0_ENABLED = False
    html = client.get(reverse("login")).content.decode()
    assert "Sign in with Auth0" not in html
    assert 'name="password"' in html
