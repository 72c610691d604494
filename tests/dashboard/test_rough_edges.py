"""A marketer's day without rough edges (issue 25): the chart reads without hovering, the
status tabs count and link, the message page shows its text, a scheduled campaign says
whom it will reach, the composer's words, suggestions and hints, and the words Django
writes for a repeated phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from messaging.models import Campaign, CampaignStatus, Client, Message, MessageStatus
from messaging.models.counters import record_sends
from tests.conftest import force_status, make_campaign, make_client
from tests.dashboard.test_campaigns import form_data
from tests.i18n.test_languages import _messages

pytestmark = pytest.mark.django_db


def page(browser, url, **query) -> str:
    return browser.get(url, query).content.decode()


def test_the_chart_has_axes_values_as_text_and_says_when_there_is_no_data(as_viewer):
    html = page(as_viewer, reverse("dashboard:home"))
    assert 'data-chart="empty"' in html and "No data yet" in html
    assert html.count("<span>", html.index('data-chart="times"')) >= 5
    campaign = make_campaign()
    now = timezone.now()
    record_sends(campaign.pk, sent=1200, failed=3, at=now)
    record_sends(campaign.pk, sent=40, at=now - timedelta(minutes=10))
    html = page(as_viewer, reverse("dashboard:home"))
    assert 'data-chart="empty"' not in html
    # The y axis: the peak, half of it, 0.
    assert '<div class="chart-y' in html
    assert "<span>1,203</span><span>601</span><span>0</span>" in html
    # Every busy minute's values, readable without hovering.
    values = html[html.index('data-chart="values"') :]
    assert f"<td>{timezone.localtime(now):%H:%M}</td>" in values
    assert '<td class="text-end">1,200</td><td class="text-end">3</td>' in values
    assert '<td class="text-end">40</td><td class="text-end">0</td>' in values


def test_status_tabs_count_each_status_and_link_with_status_in_the_url(as_viewer):
    campaign = make_campaign(start_in=timedelta(hours=-1))
    force_status(campaign.pk, CampaignStatus.RUNNING)
    _messages(campaign, ["79160000001", "79160000002"], MessageStatus.SENT)
    _messages(campaign, ["79160000003"], MessageStatus.FAILED)
    url = reverse("dashboard:campaign-detail", args=[campaign.pk])
    html = page(as_viewer, url, status="failed")
    assert 'hx-push-url="true"' in html  # htmx puts the tab in the address bar
    for status, n in (("", 3), ("sent", 2), ("failed", 1), ("pending", 0)):
        href = url + (f"?status={status}" if status else "")
        tab = html[html.index(f'href="{href}" data-status-tab="{status}"') :]
        assert (
            f'<span class="badge rounded-pill text-bg-light border" data-tab-count>{n}</span>'
            in tab[:400]
        )
    assert 'aria-current="true" href="' + url + '?status=failed"' in html
    # A tile at 0 is not red: its badge is neutral.
    assert 'text-bg-light border">failed</span>' not in html
    assert 'text-bg-danger">failed</span>' in html
    cancelled = html[
        html.index('data-count="cancelled"') - 300 : html.index('data-count="cancelled"')
    ]
    assert "text-bg-secondary" not in cancelled and "text-bg-light border" in cancelled


def test_the_message_page_shows_the_text_that_was_sent(as_viewer):
    campaign = make_campaign(text="Скидка 30% только сегодня")
    message = _messages(campaign, ["79160000009"], MessageStatus.SENT)[0]
    Message.objects.filter(pk=message.pk).update(text="Скидка 30% только сегодня")
    html = page(as_viewer, reverse("dashboard:message-detail", args=[message.pk]))
    assert 'id="message-text">Скидка 30% только сегодня</dd>' in html


def test_a_scheduled_campaign_says_how_many_clients_it_will_reach(as_viewer):
    for i in range(3):
        make_client(f"7916000000{i}", tag="vip")
    make_client("79260000000", tag="other")
    campaign = make_campaign(tags=["vip"])
    html = page(as_viewer, reverse("dashboard:campaign-detail", args=[campaign.pk]))
    assert 'data-expected-recipients="3"' in html
    assert "It will reach 3 clients, as the clients are now." in html
    assert "No messages yet" not in html


def test_running_campaigns_on_the_dashboard_leave_out_paused_ones(as_viewer):
    running = make_campaign(name="Идёт", start_in=timedelta(hours=-1))
    force_status(running.pk, CampaignStatus.RUNNING)
    paused = make_campaign(name="На паузе", start_in=timedelta(hours=-1))
    force_status(paused.pk, CampaignStatus.PAUSED)
    html = page(as_viewer, reverse("dashboard:home"))
    assert f'id="live-campaign-{running.pk}"' in html
    assert f'id="live-campaign-{paused.pk}"' not in html
    # "Failed today" is red only when something failed.
    assert 'display-6" data-figure="failed-today">0<' in html


def test_the_composer_names_cyrillic_as_such_and_other_characters_one_by_one(as_manager):
    html = page(as_manager, reverse("dashboard:campaign-create"))
    response = as_manager.post(
        reverse("dashboard:campaign-create"),
        form_data(text="Здравствуйте! «Скидки» 🎉", name=""),
    )
    response = as_manager.post(
        reverse("dashboard:campaign-test-send"), {"text": "x", "test_phone": "1"}
    )
    assert response.status_code in (200, 400)
    from dashboard.views.campaign_form import _composer_context

    context = _composer_context("Здравствуйте! «Скидки» 🎉")
    assert context["sms_cyrillic"] is True
    assert context["sms_non_gsm"] == ["«", "»", "🎉"]
    assert 'data-sms="cyrillic" hidden' in html  # an empty text: nothing named


def test_a_too_long_text_has_one_error_not_two(as_manager, settings):
    response = as_manager.post(reverse("dashboard:campaign-create"), form_data(text="Я" * 67 * 12))
    html = response.content.decode()
    assert response.status_code == 400
    assert "SMS parts" in html
    # The composer's live warning stays hidden while the form's own error says it.
    assert 'data-sms="too-long" hidden' in html


def test_suggestions_for_operator_codes_and_tags_and_hints_for_lists(as_manager):
    make_client("79161234567", tag="vip", code="916")
    make_client("79261234567", tag="new", code="926")
    html = page(as_manager, reverse("dashboard:campaign-create"))
    assert 'list="operator-code-options"' in html and 'list="tag-options"' in html
    codes = html[html.index('<datalist id="operator-code-options">') :]
    assert '<option value="916"></option><option value="926"></option></datalist>' in codes
    tags = html[html.index('<datalist id="tag-options">') :]
    assert '<option value="new"></option><option value="vip"></option></datalist>' in tags
    # "916 926" with a space: two codes.
    response = as_manager.post(
        reverse("dashboard:campaign-create"), form_data(operator_codes="916 926", tags="")
    )
    assert response.status_code == 302
    assert Campaign.objects.get().operator_codes == ["916", "926"]
    # An operator's name: told codes are digits.
    response = as_manager.post(
        reverse("dashboard:campaign-create"), form_data(operator_codes="МТС")
    )
    assert response.status_code == 400
    assert "МТС: operator codes are digits, e.g. 916" in response.content.decode()
    # Known tags separated by a space: told to use commas.
    response = as_manager.post(reverse("dashboard:campaign-create"), form_data(tags="vip new"))
    html = response.content.decode()
    assert response.status_code == 400 and "separate tags with commas: vip, new" in html


def test_a_repeated_phone_reads_well_in_both_languages(as_manager, client):
    make_client("79161234567")
    data = {"phone": "79161234567", "timezone": "Europe/Moscow"}
    html = as_manager.post(reverse("dashboard:client-create"), data).content.decode()
    assert "A client with this phone already exists." in html
    as_manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    html = as_manager.post(reverse("dashboard:client-create"), data).content.decode()
    assert "Клиент с таким номером телефона уже есть." in html
    assert "Client" not in html.split("<main")[1].split("</main>")[0].replace("client-", "")
    assert Client.objects.count() == 1


def test_confirmation_headings_quote_the_russian_way(as_manager):
    campaign = make_campaign(name="Весна")
    as_manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    html = page(as_manager, reverse("dashboard:campaign-action", args=[campaign.pk, "cancel"]))
    assert "«Весна»?</h1>" in html
    as_manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page(as_manager, reverse("dashboard:campaign-action", args=[campaign.pk, "cancel"]))
    assert "“Весна”?</h1>" in html
