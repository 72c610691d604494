"""Polled fragments answer 204 (htmx swaps nothing) until what they show changed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from messaging.models import CampaignStatus, Message, MessageStatus, ProviderState
from messaging.models.counters import add_pending, move_messages, record_sends
from tests.conftest import force_status, make_campaign, make_client

pytestmark = pytest.mark.django_db

# Tables a poll must not read when nothing changed: the stamp comes from counters.
HEAVY = ("messaging_message", "messaging_deliveryattempt", "messaging_sendbucket")
# What any signed-in page reads first: the session, the user, their role.
SIGNED_IN = 3


def stamp_in(html: str, element_id: str) -> str:
    """The stamp on the element that polls for `element_id` (itself, or its target)."""
    for tag in re.findall(r"<div [^>]*X-Herald-Stamp[^>]*>", html):
        if f'id="{element_id}"' in tag or f'hx-target="#{element_id}"' in tag:
            return re.search(r'"X-Herald-Stamp": "(\w+)"', tag).group(1)
    raise AssertionError(f"no poll for #{element_id}")


def poll(browser, url: str, target: str, stamp: str):
    return browser.get(
        url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target, HTTP_X_HERALD_STAMP=stamp
    )


def assert_cheap(captured):
    read = " ".join(query["sql"] for query in captured.captured_queries)
    assert not [table for table in HEAVY if table in read], read


@pytest.fixture
def clock():
    """A minute that does not turn during the test (the stamps change with the minute)."""
    with time_machine.travel(timezone.now().replace(second=5), tick=True) as traveller:
        yield traveller


@pytest.fixture
def running(db):
    campaign = make_campaign(name="Spring", start_in=timedelta(minutes=-5))
    clients = [make_client(f"791612300{i:02d}") for i in range(4)]
    Message.objects.bulk_create(
        Message(campaign=campaign, client=c, phone=c.phone) for c in clients
    )
    add_pending(campaign.pk, len(clients))
    force_status(campaign.pk, CampaignStatus.RUNNING, targets_selected_at=timezone.now())
    return campaign


def send_one(campaign):
    message = campaign.messages.filter(status=MessageStatus.PENDING).first()
    move_messages(
        Message.objects.filter(pk=message.pk),
        [MessageStatus.PENDING],
        MessageStatus.SENT,
        sent_at=timezone.now(),
    )
    record_sends(campaign.pk, sent=1)


@pytest.mark.parametrize("target", ["campaign-live", "campaign-messages"])
def test_campaign_page_polls_get_204_until_the_counters_move(
    as_viewer, running, clock, target, django_assert_max_num_queries
):
    url = reverse("dashboard:campaign-detail", args=[running.pk])
    stamp = stamp_in(as_viewer.get(url).content.decode(), target)

    with django_assert_max_num_queries(SIGNED_IN + 2) as captured:  # the campaign, the provider
        response = poll(as_viewer, url, target, stamp)
    assert response.status_code == 204 and response.content == b""
    assert_cheap(captured)

    send_one(running)
    response = poll(as_viewer, url, target, stamp)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert stamp_in(html, target) != stamp
    if target == "campaign-live":
        assert 'data-count="sent">1<' in html
    else:
        assert html.count("badge") >= 4 and "Sent" in html


def test_a_poll_without_a_stamp_or_with_an_old_one_gets_the_fragment(as_viewer, running, clock):
    url = reverse("dashboard:campaign-detail", args=[running.pk])
    live = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "campaign-live"}
    assert as_viewer.get(url, **live).status_code == 200
    assert poll(as_viewer, url, "campaign-live", "0123456789abcdef").status_code == 200


def test_the_page_itself_is_never_a_204(as_viewer, running, clock):
    url = reverse("dashboard:campaign-detail", args=[running.pk])
    stamp = stamp_in(as_viewer.get(url).content.decode(), "campaign-live")
    response = as_viewer.get(url, HTTP_X_HERALD_STAMP=stamp)
    assert response.status_code == 200 and "<html" in response.content.decode()


def test_a_campaign_done_stops_the_poll_with_286(as_viewer, running, clock):
    url = reverse("dashboard:campaign-detail", args=[running.pk])
    stamp = stamp_in(as_viewer.get(url).content.decode(), "campaign-live")
    force_status(running.pk, CampaignStatus.CANCELLED)
    response = poll(as_viewer, url, "campaign-live", stamp)
    assert response.status_code == 286
    assert "hx-trigger" not in response.content.decode()


def test_the_why_line_follows_the_provider_and_the_clock(as_viewer, running, clock):
    """The diagnosis and the finish estimate change without the counters moving."""
    url = reverse("dashboard:campaign-detail", args=[running.pk])
    stamp = stamp_in(as_viewer.get(url).content.decode(), "campaign-live")
    ProviderState.objects.update_or_create(
        pk=1, defaults={"circuit": "open", "opened_until": timezone.now() + timedelta(minutes=5)}
    )
    response = poll(as_viewer, url, "campaign-live", stamp)
    assert response.status_code == 200
    assert 'data-why="outage"' in response.content.decode()

    stamp = stamp_in(response.content.decode(), "campaign-live")
    assert poll(as_viewer, url, "campaign-live", stamp).status_code == 204
    clock.shift(timedelta(minutes=1))
    assert poll(as_viewer, url, "campaign-live", stamp).status_code == 200


def test_campaign_list_poll_gets_204_until_a_campaign_changes(
    as_viewer, running, clock, django_assert_max_num_queries
):
    url = reverse("dashboard:campaign-list")
    stamp = stamp_in(as_viewer.get(url).content.decode(), "campaigns-table")
    with django_assert_max_num_queries(SIGNED_IN + 1) as captured:  # campaigns with counters
        assert poll(as_viewer, url, "campaigns-table", stamp).status_code == 204
    assert_cheap(captured)

    send_one(running)
    response = poll(as_viewer, url, "campaigns-table", stamp)
    assert response.status_code == 200
    assert "<html" not in response.content.decode() and "Spring" in response.content.decode()
    assert stamp_in(response.content.decode(), "campaigns-table") != stamp


def test_dashboard_poll_gets_204_until_a_figure_changes(
    as_viewer, running, clock, django_assert_max_num_queries
):
    url = reverse("dashboard:home")
    stamp = stamp_in(as_viewer.get(url).content.decode(), "dashboard-live")
    # The provider, the campaigns with their counters, the newest client.
    with django_assert_max_num_queries(SIGNED_IN + 3) as captured:
        assert poll(as_viewer, url, "dashboard-live", stamp).status_code == 204
    assert_cheap(captured)

    send_one(running)
    response = poll(as_viewer, url, "dashboard-live", stamp)
    assert response.status_code == 200
    assert 'data-figure="sent-today">1<' in response.content.decode()

    stamp = stamp_in(response.content.decode(), "dashboard-live")
    make_client("79169999999")
    response = poll(as_viewer, url, "dashboard-live", stamp)
    assert response.status_code == 200
    assert 'data-figure="clients">5<' in response.content.decode()
