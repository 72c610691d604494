"""The dashboard, a campaign's page and the clients list cost the same at a million rows as at
a hundred while a campaign sends: they count no messages and, when there are many clients, do
not count those either (an estimate, shown as one), and they ask for the viewer's role once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import database
from messaging import services
from messaging.models import CampaignCounts, CampaignStatus, Client, Message
from tests.conftest import force_status, make_campaign

pytestmark = pytest.mark.django_db


def counts_of_table(captured, table: str) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"] and f'"{table}"' in q["sql"]
    ]


def campaign_with_messages(n: int):
    clients = Client.objects.bulk_create(
        Client(phone=f"7916{i:07d}", operator_code="916", timezone="Europe/Moscow")
        for i in range(n)
    )
    campaign = make_campaign(name="Big")
    Message.objects.bulk_create(
        Message(campaign=campaign, client=c, phone=c.phone, status="sent") for c in clients
    )
    # What the engine's gateway keeps as it moves messages.
    CampaignCounts.objects.filter(campaign=campaign).update(sent=n)
    return campaign


def test_a_campaigns_page_takes_its_page_count_from_the_kept_counters(as_manager):
    campaign = campaign_with_messages(60)
    with CaptureQueriesContext(connection) as captured:
        page = as_manager.get(f"/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    assert counts_of_table(captured, Message._meta.db_table) == []
    html = page.content.decode()
    assert "?page=3" in html  # 60 messages, 25 a page: the counters say three pages
    sent_only = as_manager.get(f"/campaigns/{campaign.pk}/?status=failed")
    assert "?page=2" not in sent_only.content.decode()


def test_a_campaign_past_retention_counts_the_rows_left_not_its_kept_totals(as_manager, settings):
    settings.RETENTION_MESSAGES_DAYS = 90
    campaign = campaign_with_messages(60)
    force_status(campaign, CampaignStatus.FINISHED, finished_at=timezone.now() - timedelta(days=91))
    # What retention does: the rows go, the totals stay.
    Message.objects.filter(campaign=campaign).exclude(pk=Message.objects.first().pk).delete()
    html = as_manager.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "?page=2" not in html  # one row left: no page of nothing to click


def test_a_page_asks_for_the_viewers_role_once_however_many_rows_it_shows(as_manager):
    def queries(n: int) -> int:
        campaign = campaign_with_messages(n) if n else make_campaign(name="Empty")
        with CaptureQueriesContext(connection) as captured:
            as_manager.get(f"/campaigns/{campaign.pk}/")
        Message.objects.all().delete()
        Client.objects.all().delete()
        return len(captured.captured_queries)

    assert queries(2) == queries(25)


def test_the_clients_list_and_the_dashboard_count_clients_exactly_while_there_are_few(as_manager):
    Client.objects.bulk_create(
        Client(phone=f"7916{i:07d}", operator_code="916", timezone="Europe/Moscow")
        for i in range(30)
    )
    assert "30 clients" in as_manager.get("/clients/").content.decode()
    assert re.search(r'data-figure="clients">30<', as_manager.get("/").content.decode())


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the estimate is PostgreSQL's (pg_class)"
)
def test_many_clients_are_estimated_not_counted_and_the_page_says_so(as_manager, monkeypatch):
    monkeypatch.setattr(database, "ESTIMATE_FROM", 20)  # one source: the import reads it too
    rows = "phone\n" + "".join(f"7916{i:07d}\n" for i in range(30))
    # The import leaves the table analysed, so the estimate is there at once.
    result = services.import_clients(data=rows.encode())
    assert result.created == 30
    with CaptureQueriesContext(connection) as captured:
        listing = as_manager.get("/clients/").content.decode()
        dashboard = as_manager.get("/").content.decode()
    assert counts_of_table(captured, Client._meta.db_table) == []
    assert "About 30 clients (an estimate)" in listing
    assert re.search(r'data-figure="clients">about 30<', dashboard)
    # A filter's rows are still counted exactly.
    assert "30 clients" in as_manager.get("/clients/?operator_code=916").content.decode()
