"""With DEBUG on, Django's error page shows settings, the request's environment and the
traceback's variables: never the database password."""

from __future__ import annotations

import sys

import pytest
from django.test import RequestFactory, override_settings
from django.views.debug import technical_500_response

# Joined here, so that the page's source excerpts (it quotes this file) do not show it.
PASSWORD = "-".join(["s3cret", "db", "pass"])
URL = f"postgres://herald:{PASSWORD}@db.internal:5432/herald"


def error_page(request) -> str:
    def connect(dsn=URL, conn_params=None):
        raise RuntimeError("could not connect")

    try:
        connect(conn_params={"host": "db.internal", "password": PASSWORD})
    except RuntimeError:
        response = technical_500_response(request, *sys.exc_info())
    return response.content.decode()


@override_settings(
    DEBUG=True,
    DATABASE_URL=URL,
    PROVIDER_URL=f"https://probe:{PASSWORD}@probe.example/v1",
)
def test_the_debug_page_hides_the_database_password_everywhere():
    # Under runserver the environment (and so DATABASE_URL) is in request.META.
    request = RequestFactory().get("/boom", DATABASE_URL=URL, SOME_URL=URL)
    html = error_page(request)
    assert "could not connect" in html
    assert PASSWORD not in html
    assert "DATABASE_URL" in html and "postgres://herald:" in html  # the rest stays readable
    assert "probe.example" in html


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (URL, "postgres://herald:********************@db.internal:5432/herald"),
        ("https://probe.example/v1", "https://probe.example/v1"),
        ("redis://:pw@cache:6379/0", "redis://:********************@cache:6379/0"),
    ],
)
def test_urls_keep_everything_but_the_password(value, shown):
    from security.error_reports import SecretsHiddenFilter

    assert SecretsHiddenFilter().cleanse_setting("SOME_URL", value) == shown
