"""The campaigns pages: form with live preview, detail with live counters, lifecycle actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.middleware import TZ_COOKIE
from messaging import services
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.models.counters import add_pending, move_messages
from tests.conftest import force_status, make_campaign, make_client

pytestmark = pytest.mark.django_db

# htmx asking a page for one of its fragments, named by the id of the element it swaps.
PREVIEW = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "campaign-preview"}
LIVE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "campaign-live"}


def form_data(**overrides) -> dict:
    data = {
        "name": "Spring sale",
        "text": "Hello!",
        "start_at": "2030-03-01T10:00",
        "end_at": "2030-03-02T10:00",
        "operator_codes": "916, 925",
        "tags": "vip",
        "send_window_start": "",
        "send_window_end": "",
    }
    data.update(overrides)
    return data


def test_creating_a_campaign_reads_times_in_the_viewers_time_zone(as_manager, manager):
    as_manager.cookies[TZ_COOKIE] = "Asia/Vladivostok"
    response = as_manager.post(reverse("dashboard:campaign-create"), form_data())
    campaign = Campaign.objects.get()
    assert response["Location"] == reverse("dashboard:campaign-detail", args=[campaign.pk])
    assert campaign.start_at == datetime(2030, 3, 1, 10, tzinfo=ZoneInfo("Asia/Vladivostok"))
    assert campaign.operator_codes == ["916", "925"]
    assert campaign.tags == ["vip"]
    assert campaign.created_by == manager
    assert campaign.counts.total == 0


def test_the_form_names_the_time_zone_of_its_times(as_manager):
    as_manager.cookies[TZ_COOKIE] = "Asia/Tokyo"
    html = as_manager.get(reverse("dashboard:campaign-create")).content.decode()
    assert "Start (Tokyo)" in html  # the zone by its city


def test_bad_campaign_input_shows_field_errors_and_saves_nothing(as_manager):
    response = as_manager.post(
        reverse("dashboard:campaign-create"),
        form_data(
            text="",
            end_at="2030-02-01T10:00",
            operator_codes="916, 12a",
            send_window_start="21:00",
        ),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html
    assert "12a: Operator code must be exactly 3 digits (0-9)." in html
    assert Campaign.objects.count() == 0


def test_end_before_start_and_half_a_window_are_field_errors(as_manager):
    response = as_manager.post(
        reverse("dashboard:campaign-create"),
        form_data(end_at="2030-02-01T10:00", send_window_start="21:00"),
    )
    html = response.content.decode()
    assert "End must be after start." in html
    assert "Give both ends of the send window, or neither." in html
    assert Campaign.objects.count() == 0


def test_preview_counts_matching_clients_and_explains_the_window(as_manager):
    make_client("79161234567", tag="vip")
    make_client("79162222222", tag="other")
    make_client("79251234567", tag="vip")
    url = reverse("dashboard:campaign-create")
    html = as_manager.get(
        url,
        {
            "operator_codes": "916",
            "tags": "",
            "send_window_start": "21:00",
            "send_window_end": "09:00",
        },
        **PREVIEW,
    ).content.decode()
    assert "<html" not in html and "<form" not in html
    assert "<strong>2</strong> clients match" in html
    assert "Only between 21:00 and 09:00 in each client&#x27;s local time (overnight" in html
    html = as_manager.get(url, {"operator_codes": "916", "tags": "vip"}, **PREVIEW).content.decode()
    assert "<strong>1</strong> client matches" in html
    assert "Any time of day" in html
    html = as_manager.get(url, {"operator_codes": "9x"}, **PREVIEW).content.decode()
    assert "Fix the operator codes" in html


def test_detail_shows_counters_and_polls_while_active(as_viewer):
    campaign = make_campaign(name="Autumn", text="Buy <b>now</b>")
    html = as_viewer.get(reverse("dashboard:campaign-detail", args=[campaign.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert "Buy &lt;b&gt;now&lt;/b&gt;" in html
    live = as_viewer.get(reverse("dashboard:campaign-detail", args=[campaign.pk]), **LIVE)
    assert live.status_code == 200
    assert 'data-count="pending">0<' in live.content.decode()
    assert "Buy &lt;b&gt;now&lt;/b&gt;" not in live.content.decode()  # the counters only


def messages_for(campaign, n: int, status=MessageStatus.PENDING):
    clients = [make_client(f"7916{campaign.pk % 1000:03d}{i:04d}") for i in range(n)]
    Message.objects.bulk_create(
        Message(campaign=campaign, client=c, phone=c.phone) for c in clients
    )
    add_pending(campaign.pk, n)
    if status != MessageStatus.PENDING:
        move_messages(
            campaign.messages.all(), [MessageStatus.PENDING], status, sent_at=timezone.now()
        )


def test_live_counters_answer_286_to_stop_polling_once_done(as_viewer):
    campaign = make_campaign()
    messages_for(campaign, 3, MessageStatus.SENT)
    force_status(campaign.pk, CampaignStatus.FINISHED)
    live = as_viewer.get(reverse("dashboard:campaign-detail", args=[campaign.pk]), **LIVE)
    html = live.content.decode()
    assert live.status_code == 286
    assert 'data-count="sent">3<' in html
    assert "hx-trigger" not in html


def test_message_table_filters_by_status(as_viewer):
    campaign = make_campaign()
    messages_for(campaign, 2)
    first = campaign.messages.order_by("id").first()
    move_messages(campaign.messages.filter(pk=first.pk), ["pending"], "failed")
    url = reverse("dashboard:campaign-detail", args=[campaign.pk])
    html = as_viewer.get(url, {"status": "failed"}).content.decode()
    assert f'href="/messages/{first.pk}/"' in html
    assert html.count('href="/messages/') == 1
    partial = as_viewer.get(
        url, {"status": "pending"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="campaign-messages"
    )
    assert "<nav" not in partial.content.decode()
    assert partial.content.decode().count('href="/messages/') == 1


def test_pause_and_resume_are_confirmed_then_done(as_manager):
    campaign = make_campaign()
    url = reverse("dashboard:campaign-action", args=[campaign.pk, "pause"])
    confirm = as_manager.get(url)
    assert "Yes, pause" in confirm.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    response = as_manager.post(url, follow=True)
    assert "Campaign paused." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    as_manager.post(reverse("dashboard:campaign-action", args=[campaign.pk, "resume"]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


def test_an_action_not_allowed_now_is_refused_with_a_clear_message(as_manager):
    campaign = make_campaign()
    services.cancel_campaign(campaign=campaign)
    url = reverse("dashboard:campaign-action", args=[campaign.pk, "pause"])
    assert "A cancelled campaign cannot be paused." in as_manager.get(url).content.decode()
    response = as_manager.post(url, follow=True)
    assert "A cancelled campaign cannot be paused." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_cancel_marks_unsent_messages_cancelled(as_manager):
    campaign = make_campaign()
    messages_for(campaign, 2)
    as_manager.post(reverse("dashboard:campaign-action", args=[campaign.pk, "cancel"]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert campaign.counts.cancelled == 2


def test_delete_removes_the_campaign(as_manager):
    campaign = make_campaign()
    response = as_manager.post(reverse("dashboard:campaign-action", args=[campaign.pk, "delete"]))
    assert response["Location"] == reverse("dashboard:campaign-list")
    assert not Campaign.objects.exists()


def test_unknown_action_is_404(as_manager):
    campaign = make_campaign()
    url = reverse("dashboard:campaign-action", args=[campaign.pk, "explode"])
    assert as_manager.post(url).status_code == 404


def test_retry_failed_calls_the_service(as_manager, monkeypatch):
    calls = []
    monkeypatch.setattr(
        services,
        "retry_failed_messages",
        lambda *, campaign: calls.append(campaign.pk) or 2,
    )
    campaign = make_campaign()
    messages_for(campaign, 2, MessageStatus.FAILED)
    force_status(campaign.pk, CampaignStatus.RUNNING)
    detail = as_manager.get(reverse("dashboard:campaign-detail", args=[campaign.pk]))
    assert "Retry failed" in detail.content.decode()
    response = as_manager.post(
        reverse("dashboard:campaign-action", args=[campaign.pk, "retry"]), follow=True
    )
    assert calls == [campaign.pk]
    assert "2 failed messages queued again." in response.content.decode()


def test_edit_after_start_keeps_the_filter_and_changes_the_text(as_manager):
    campaign = make_campaign(operator_codes=["916"])
    force_status(campaign.pk, CampaignStatus.RUNNING, targets_selected_at=timezone.now())
    url = reverse("dashboard:campaign-edit", args=[campaign.pk])
    html = as_manager.get(url).content.decode()
    assert "Fixed once the campaign has started." in html
    campaign.refresh_from_db()
    local = timezone.localtime
    response = as_manager.post(
        url,
        form_data(
            text="New text",
            operator_codes="999",
            start_at=local(campaign.start_at).strftime("%Y-%m-%dT%H:%M"),
            end_at=local(campaign.end_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        ),
    )
    assert response.status_code == 302, response.content.decode()
    campaign.refresh_from_db()
    assert campaign.text == "New text"
    assert campaign.operator_codes == ["916"]


def test_a_cancelled_campaign_cannot_be_edited(as_manager):
    campaign = make_campaign()
    force_status(campaign.pk, CampaignStatus.CANCELLED)
    response = as_manager.get(reverse("dashboard:campaign-edit", args=[campaign.pk]), follow=True)
    assert "A cancelled campaign cannot be edited." in response.content.decode()
    assert reverse("dashboard:campaign-edit", args=[campaign.pk]) not in response.content.decode()


def test_a_finished_campaign_offers_edit_to_extend_it(as_manager):
    campaign = make_campaign()
    force_status(campaign.pk, CampaignStatus.FINISHED)
    page = as_manager.get(reverse("dashboard:campaign-detail", args=[campaign.pk]))
    assert reverse("dashboard:campaign-edit", args=[campaign.pk]) in page.content.decode()
    assert as_manager.get(reverse("dashboard:campaign-edit", args=[campaign.pk])).status_code == 200


def test_campaign_list_shows_status_and_progress(as_viewer):
    campaign = make_campaign(name="Winter")
    messages_for(campaign, 4)
    first = campaign.messages.order_by("id").first()
    move_messages(campaign.messages.filter(pk=first.pk), ["pending"], "sent")
    html = as_viewer.get(reverse("dashboard:campaign-list")).content.decode()
    assert "Winter" in html and "Scheduled" in html
    assert "1 of 4 done" in html
    html = as_viewer.get(reverse("dashboard:campaign-list"), {"status": "finished"}).content
    assert b"Winter" not in html


def test_retry_failed_puts_failed_messages_back_in_the_queue(as_manager):
    campaign = make_campaign(start_in=timedelta(minutes=-5))
    messages_for(campaign, 2, MessageStatus.FAILED)
    force_status(campaign.pk, CampaignStatus.FINISHED, targets_selected_at=timezone.now())
    response = as_manager.post(
        reverse("dashboard:campaign-action", args=[campaign.pk, "retry"]), follow=True
    )
    assert "2 failed messages queued again." in response.content.decode()
    campaign.refresh_from_db()
    assert (campaign.counts.failed, campaign.counts.pending) == (0, 2)
    assert campaign.status == CampaignStatus.RUNNING


def test_preview_of_a_started_campaign_counts_its_fixed_filter(as_manager):
    make_client("79161234567")
    make_client("79251234567")
    campaign = make_campaign(operator_codes=["916"])
    Campaign.objects.filter(pk=campaign.pk).update(targets_selected_at=timezone.now())
    html = as_manager.get(
        reverse("dashboard:campaign-edit", args=[campaign.pk]), {"text": "x"}, **PREVIEW
    ).content.decode()
    assert "<strong>1</strong> client matches" in html


def test_extending_a_finished_campaign_in_the_form_sends_its_expired_messages(as_manager):
    from messaging.models.counters import recount

    campaign = make_campaign()
    client = make_client("79161234567")
    ended = timezone.now() - timedelta(minutes=10)
    Message.objects.create(
        campaign=campaign, client=client, phone=client.phone, status=MessageStatus.EXPIRED
    )
    force_status(
        campaign.pk,
        CampaignStatus.FINISHED,
        targets_selected_at=ended - timedelta(minutes=20),
        start_at=ended - timedelta(minutes=20),
        end_at=ended,
    )
    recount(campaign.pk)
    campaign.refresh_from_db()
    url = reverse("dashboard:campaign-edit", args=[campaign.pk])
    local = timezone.localtime
    response = as_manager.post(
        url,
        form_data(
            operator_codes="",
            tags="",
            start_at=local(campaign.start_at).strftime("%Y-%m-%dT%H:%M"),
            end_at=local(timezone.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        ),
    )
    assert response.status_code == 302, response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    assert Message.objects.get().status == MessageStatus.PENDING
    assert campaign.counts.pending == 1 and campaign.counts.expired == 0


def test_a_nul_character_in_the_filter_is_a_form_problem_not_a_500(as_manager):
    response = as_manager.get(reverse("dashboard:campaign-create"), {"tags": "vip\x00"}, **PREVIEW)
    assert response.status_code == 200
    response = as_manager.post(
        reverse("dashboard:campaign-create"),
        {
            "text": "Hi",
            "start_at": "2099-01-01T10:00",
            "end_at": "2099-01-02T10:00",
            "tags": "vip\x00",
        },
    )
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert not Campaign.objects.exists()
