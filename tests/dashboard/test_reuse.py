"""Reuse: duplicate a campaign, live progress on the campaign list, the empty dashboard."""

from __future__ import annotations

from datetime import time

from django.urls import reverse

from messaging.models import Campaign, CampaignStatus
from tests.conftest import force_status, make_campaign, make_client


def test_duplicate_fills_the_form_with_everything_but_the_times(as_manager):
    source = make_campaign(
        name="Black Friday",
        text="Everything -30%",
        operator_codes=["916", "926"],
        tags=["vip"],
        send_window_start=time(10, 0),
        send_window_end=time(21, 0),
    )
    html = as_manager.get(reverse("dashboard:campaign-duplicate", args=[source.pk])).content
    html = html.decode()
    assert 'value="Black Friday (copy)"' in html
    assert "Everything -30%" in html
    assert 'value="916, 926"' in html and 'value="vip"' in html
    assert 'value="10:00"' in html and 'value="21:00"' in html
    assert f'data-duplicate-of="{source.pk}"' in html
    start = source.start_at.strftime("%Y-%m-%dT%H:%M")
    assert start not in html  # new times, not the source's


def test_posting_the_duplicate_creates_a_new_campaign(as_manager):
    source = make_campaign(name="Spring", text="Hi", tags=["vip"])
    response = as_manager.post(
        reverse("dashboard:campaign-duplicate", args=[source.pk]),
        {
            "name": "Spring (copy)",
            "text": "Hi",
            "start_at": "2030-01-01T10:00",
            "end_at": "2030-01-02T10:00",
            "tags": "vip",
        },
    )
    copy = Campaign.objects.exclude(pk=source.pk).get()
    assert response.status_code == 302
    assert (copy.name, copy.text, copy.tags) == ("Spring (copy)", "Hi", ["vip"])
    assert Campaign.objects.get(pk=source.pk).name == "Spring"


def test_the_campaign_page_offers_duplicate_to_managers_only(as_manager, client, viewer):
    campaign = make_campaign()
    url = reverse("dashboard:campaign-detail", args=[campaign.pk])
    assert 'id="duplicate-campaign"' in as_manager.get(url).content.decode()
    client.force_login(viewer)
    assert 'id="duplicate-campaign"' not in client.get(url).content.decode()
    assert (
        client.get(reverse("dashboard:campaign-duplicate", args=[campaign.pk])).status_code == 403
    )


def test_the_campaign_list_polls_only_while_a_campaign_is_active(as_viewer):
    campaign = make_campaign()
    html = as_viewer.get(reverse("dashboard:campaign-list")).content.decode()
    assert 'data-refresh="campaigns"' in html
    force_status(campaign.pk, CampaignStatus.FINISHED)
    html = as_viewer.get(reverse("dashboard:campaign-list")).content.decode()
    assert 'data-refresh="campaigns"' not in html


def test_the_empty_dashboard_first_suggests_importing_clients(as_manager):
    html = as_manager.get(reverse("dashboard:home")).content.decode()
    first_link = html.index('id="start-import-clients"')
    assert reverse("dashboard:client-import") in html[first_link : first_link + 200]
    assert first_link < html.index(reverse("dashboard:campaign-create"), first_link)
    make_client("79161234567")
    html = as_manager.get(reverse("dashboard:home")).content.decode()
    assert "data-empty-dashboard" not in html
