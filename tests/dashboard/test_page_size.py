"""Every table of the UI shows a bounded page, whatever `?per_page=` asks for.

`/clients/?per_page=50000` used to render 50,000 clients (33 MB, a minute, a worker
grown by 220 MB) and `?per_page=-1` was a 500. The amount of work is what is checked:
the rows on the page, never the time it took.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from messaging.models import Campaign, Client, Message
from messaging.models.counters import CampaignCounts
from tests.conftest import make_campaign

pytestmark = pytest.mark.django_db

ROWS = 130  # more than UI_MAX_PAGE_SIZE (100)


@pytest.fixture
def tables(db) -> dict[str, str]:
    """Every paginated table with more rows than a page may hold: its URL and htmx target."""
    clients = Client.objects.bulk_create(
        Client(phone=f"7916{n:07d}", operator_code="916", timezone="Europe/Moscow")
        for n in range(ROWS)
    )
    first = make_campaign(name="First")
    more = Campaign.objects.bulk_create(
        Campaign(name=f"C{n}", text="Hi", start_at=first.start_at, end_at=first.end_at)
        for n in range(ROWS)
    )
    # The counters the engine keeps: the campaign page's table takes its count from them.
    CampaignCounts.objects.bulk_create(
        CampaignCounts(campaign=campaign, pending=1) for campaign in more
    )
    CampaignCounts.objects.filter(campaign=first).update(pending=ROWS)
    Message.objects.bulk_create(
        Message(campaign=first, client=client, phone=client.phone) for client in clients
    )
    Message.objects.bulk_create(
        Message(campaign=campaign, client=clients[0], phone=clients[0].phone)
        for campaign in Campaign.objects.exclude(pk=first.pk)
    )
    return {
        "/clients/": "",
        "/campaigns/": "campaigns-table",
        f"/campaigns/{first.pk}/": "campaign-messages",
        f"/clients/{clients[0].pk}/": "client-messages",
    }


def rows_shown(html: str) -> int:
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return len(re.findall(r"<tr[\s>]", body))


@pytest.mark.parametrize(
    ("asked", "shown"),
    [
        ("50000", 100),  # capped at UI_MAX_PAGE_SIZE
        ("101", 100),
        ("40", 40),
        ("-1", 25),  # nonsense: the usual page (UI_PAGE_SIZE)
        ("0", 25),
        ("abc", 25),
        ("1e9", 25),
        ("99999999999999999999999", 100),
    ],
)
def test_per_page_is_capped_and_nonsense_gets_the_usual_page(as_manager, tables, asked, shown):
    assert (settings.UI_PAGE_SIZE, settings.UI_MAX_PAGE_SIZE) == (25, 100)
    for path in tables:
        response = as_manager.get(path, {"per_page": asked})
        assert response.status_code == 200, (path, asked)
        assert rows_shown(response.content.decode()) == shown, (path, asked)


@pytest.mark.parametrize(("asked", "shown"), [("50000", 100), ("-1", 25)])
def test_the_htmx_partials_are_capped_too(as_manager, tables, asked, shown):
    for path, target in tables.items():
        headers = {"HTTP_HX_REQUEST": "true", **({"HTTP_HX_TARGET": target} if target else {})}
        response = as_manager.get(path, {"per_page": asked}, **headers)
        assert response.status_code == 200, path
        assert "<html" not in response.content.decode()[:200], path  # the fragment alone
        assert rows_shown(response.content.decode()) == shown, path


def test_a_page_past_the_end_shows_the_last_one(as_manager, tables):
    for path in tables:
        for page in ("9999", "-3", "x"):
            response = as_manager.get(path, {"per_page": "100", "page": page})
            assert response.status_code == 200
            assert rows_shown(response.content.decode()) in (ROWS - 100, ROWS + 1 - 100, 100)


def test_the_cap_follows_its_setting(as_manager, tables, settings):
    settings.UI_MAX_PAGE_SIZE = 30
    response = as_manager.get("/clients/", {"per_page": "50000"})
    assert rows_shown(response.content.decode()) == 30
