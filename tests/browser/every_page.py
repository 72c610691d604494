"""Every page of the UI with data in it, for the browser tests that walk them all
(accessibility, the phone layout): the URL list tests/dashboard/test_access.py walks, seeded
as tests/i18n/test_languages.py seeds it, plus the states a walk of the URLs does not reach."""

from __future__ import annotations

from django.conf import settings
from django.test import Client as TestClient
from django.urls import reverse

from messaging.models import Campaign
from tests.i18n.test_languages import DOWNLOADS, _pages, seed_russian_team

# Pages that answer files or only take POSTs.
NOT_PAGES = DOWNLOADS | {
    "dashboard:client-export",
    "dashboard:client-export-excel",
    "dashboard:client-export-xlsx",
}


def seed() -> dict:
    """The Russian team's data (campaigns in every state, messages, a second page of
    clients, a pending import), signed-in as its Manager."""
    return seed_russian_team()


def every_page(objects: dict, language: str = "en") -> list[tuple[str, str]]:
    """(name, path) of every GET page that answers HTML, checked with the test client."""
    candidates = list(_pages(objects))
    for campaign in Campaign.objects.exclude(pk=objects["campaign"].pk):
        candidates.append(
            (f"campaign {campaign.status} {campaign.pk}", f"/campaigns/{campaign.pk}/")
        )
    candidates += [
        ("client list, page 2", reverse("dashboard:client-list") + "?page=2"),
        (
            "messages, failed",
            reverse("dashboard:campaign-detail", args=[objects["campaign"].pk]) + "?status=failed",
        ),
    ]
    browser = TestClient()
    browser.force_login(objects["manager"])
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pages = []
    for name, path in candidates:
        if name in NOT_PAGES:
            continue
        response = browser.get(path)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        pages.append((name, path))
    return pages
