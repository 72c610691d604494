"""Shared fixtures: ready users for each role and API clients signed in as them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from messaging import services
from messaging.models import Client
from security.roles import MANAGERS, VIEWERS, assign_role
from security.tokens import issue_token
from tests.support.smtp import smtp_inbox  # noqa: F401  (a real SMTP server for email tests)

_NOT_PURE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_setup"}


def pytest_collection_modifyitems(config, items):
    """`fast` promises a pure unit (make test-fast): one that needs the database, the
    browser or real processes is a mistake to fix, not a slow fast tier."""
    wrong = [
        item.nodeid
        for item in items
        if item.get_closest_marker("fast")
        and (
            _NOT_PURE_FIXTURES & set(item.fixturenames)
            or any(item.get_closest_marker(name) for name in ("django_db", "browser", "slow"))
        )
    ]
    if wrong:
        raise pytest.UsageError("marked fast but not a pure unit: " + ", ".join(wrong))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Per-process caches (e.g. the time zones in use) must not leak between tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in Russian leaves Russian active in its thread (LocaleMiddleware never
    resets it): a later test calling code directly would read Russian labels."""
    yield
    from django.utils import translation

    translation.deactivate()


def make_user(username: str, role: str | None):
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    if role:
        assign_role(user, role)
    return user


@pytest.fixture
def manager(db):
    return make_user("manager", MANAGERS)


@pytest.fixture
def viewer(db):
    return make_user("viewer", VIEWERS)


@pytest.fixture
def as_manager(client, manager):
    """Django's test client signed in as a Manager (for the web UI)."""
    client.force_login(manager)
    return client


@pytest.fixture
def as_viewer(client, viewer):
    client.force_login(viewer)
    return client


FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


def create_token(browser, account_page: str | None = None, **extra):
    """Press "Create my token" on the account page (loaded first unless given)."""
    page = account_page or browser.get(reverse("dashboard:account")).content.decode()
    form_key = FORM_KEY.search(page).group(1)
    return browser.post(reverse("dashboard:api-token"), {"form_key": form_key}, **extra)


def token_client(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=user)}")
    return api


@pytest.fixture
def manager_api(manager) -> APIClient:
    return token_client(manager)


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    return token_client(viewer)


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


def make_client(phone: str, *, tag: str = "", tz: str = "Europe/Moscow", code: str = "") -> Client:
    return Client.objects.create(phone=phone, tag=tag, timezone=tz, operator_code=code)


def make_campaign(*, start_in: timedelta = timedelta(hours=1), length=timedelta(hours=2), **values):
    now = timezone.now()
    values.setdefault("text", "Hello")
    values.setdefault("start_at", now + start_in)
    values.setdefault("end_at", values["start_at"] + length)
    return services.create_campaign(values=values)


def force_status(campaign_or_pk, status: str, **fields) -> None:
    """Arrange a campaign in `status` directly, around the transitions table (a fixture's
    shortcut: Herald itself writes a status only through Campaign.objects.move)."""
    from django.db.models import QuerySet

    from messaging.models import Campaign

    pk = getattr(campaign_or_pk, "pk", campaign_or_pk)
    QuerySet.update(Campaign.objects.filter(pk=pk), status=status, **fields)
