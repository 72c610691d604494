"""What the campaign endpoints answer: the status right away, retry-failed, exact send
figures (issue 15 items 7, 8, 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.models.counters import add_pending, move_messages, record_sends
from tests.conftest import force_status, make_campaign, make_client

pytestmark = pytest.mark.django_db


def in_window_body(**overrides) -> dict:
    now = timezone.now()
    body = {
        "text": "Now",
        "start_at": (now - timedelta(minutes=1)).isoformat(),
        "end_at": (now + timedelta(hours=1)).isoformat(),
    }
    body.update(overrides)
    return body


# --- Status in the answer -----------------------------------------------------------------


def test_creating_an_in_window_campaign_answers_running_with_its_messages(manager_api):
    make_client("79161234567")
    make_client("79261234567")
    response = manager_api.post("/api/campaigns/", in_window_body())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "running"
    assert body["counts"]["pending"] == 2
    assert Campaign.objects.get().status == CampaignStatus.RUNNING


def test_creating_a_future_campaign_answers_scheduled(manager_api):
    later = timezone.now() + timedelta(hours=1)
    response = manager_api.post(
        "/api/campaigns/",
        in_window_body(start_at=later.isoformat(), end_at=(later + timedelta(hours=1)).isoformat()),
    )
    assert response.json()["status"] == "scheduled"


def test_an_edit_that_moves_the_start_to_now_answers_running(manager_api):
    make_client("79161234567")
    campaign = make_campaign()
    response = manager_api.patch(
        f"/api/campaigns/{campaign.pk}/",
        {"start_at": (timezone.now() - timedelta(seconds=5)).isoformat()},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "running"
    assert response.json()["counts"]["pending"] == 1


def test_the_form_saves_a_draft_and_the_review_launches_it_running(as_manager):
    make_client("79161234567")
    now = timezone.localtime()
    response = as_manager.post(
        reverse("dashboard:campaign-create"),
        {
            "text": "Hi",
            "start_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "end_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.DRAFT
    review = reverse("dashboard:campaign-review", args=[campaign.pk])
    assert as_manager.post(review, {"recipients": "1"}).status_code == 302
    assert Campaign.objects.get().status == CampaignStatus.RUNNING


# --- retry-failed -------------------------------------------------------------------------


def failed_campaign(n: int = 2) -> Campaign:
    campaign = make_campaign(start_in=timedelta(minutes=-5))
    clients = [make_client(f"7916{campaign.pk % 1000:03d}{i:04d}") for i in range(n)]
    Message.objects.bulk_create(
        Message(campaign=campaign, client=c, phone=c.phone) for c in clients
    )
    add_pending(campaign.pk, n)
    move_messages(campaign.messages.all(), [MessageStatus.PENDING], MessageStatus.FAILED)
    force_status(campaign.pk, CampaignStatus.FINISHED, targets_selected_at=timezone.now())
    return campaign


def test_retry_failed_queues_failed_messages_and_reopens_the_campaign(manager_api):
    campaign = failed_campaign(2)
    response = manager_api.post(f"/api/campaigns/{campaign.pk}/retry-failed/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["requeued"] == 2
    assert body["campaign"]["status"] == "running"
    assert body["campaign"]["counts"]["pending"] == 2
    assert body["campaign"]["counts"]["failed"] == 0


def test_retry_failed_is_refused_for_a_cancelled_campaign(manager_api):
    campaign = failed_campaign(1)
    force_status(campaign.pk, CampaignStatus.CANCELLED)
    response = manager_api.post(f"/api/campaigns/{campaign.pk}/retry-failed/")
    assert response.status_code == 400
    assert "cancelled" in response.json()["status"][0]
    assert Message.objects.filter(status=MessageStatus.FAILED).count() == 1


def test_retry_failed_is_refused_after_the_end(manager_api):
    campaign = failed_campaign(1)
    Campaign.objects.filter(pk=campaign.pk).update(end_at=timezone.now() - timedelta(seconds=1))
    response = manager_api.post(f"/api/campaigns/{campaign.pk}/retry-failed/")
    assert response.status_code == 400
    assert "end_at" in response.json()


def test_retry_failed_is_for_managers_only(viewer_api):
    campaign = failed_campaign(1)
    assert viewer_api.post(f"/api/campaigns/{campaign.pk}/retry-failed/").status_code == 403


def test_retry_failed_is_in_the_schema(viewer_api):
    schema = viewer_api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/campaigns/{id}/retry-failed/"]["post"]
    assert "Retry" in operation["summary"]
    assert "400" in operation["responses"]


# --- Send figures -------------------------------------------------------------------------


def test_send_figures_are_exact_counts_of_clock_minutes(viewer_api):
    campaign = make_campaign()
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, 59, tzinfo=UTC), tick=False):
        record_sends(campaign.pk, sent=104, failed=0, at=timezone.now())
    with time_machine.travel(datetime(2026, 11, 30, 10, 1, 0, 300000, tzinfo=UTC), tick=False):
        record_sends(campaign.pk, sent=7, failed=0, at=timezone.now())
        body = viewer_api.get(f"/api/campaigns/{campaign.pk}/stats/").json()
    assert body["minute_start"].startswith("2026-11-30T10:01:00")
    assert body["sent_this_minute"] == 7
    assert body["sent_previous_minute"] == 104
    assert body["send_rate_per_second"] == round(104 / 60, 2)
    assert "sent_last_minute" not in body


def test_resuming_a_campaign_paused_before_its_start_answers_running_once_due(manager_api):
    make_client("79161234567")
    campaign = make_campaign()
    manager_api.post(f"/api/campaigns/{campaign.pk}/pause/")
    Campaign.objects.filter(pk=campaign.pk).update(start_at=timezone.now() - timedelta(seconds=1))
    response = manager_api.post(f"/api/campaigns/{campaign.pk}/resume/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "running"
    assert response.json()["counts"]["pending"] == 1


def test_an_edit_answered_after_another_request_deleted_the_campaign_keeps_its_shape(
    manager_api, monkeypatch
):
    """Found by the API fuzzing on SQLite: a PATCH committed, a DELETE of the same campaign
    committed before the PATCH's answer was built, and the answer said `"counts": null`,
    which the schema does not allow. It now says all zero."""
    from messaging import services

    campaign = make_campaign(name="Edited, then deleted")
    update = services.update_campaign

    def update_then_deleted_elsewhere(**kwargs):
        updated = update(**kwargs)
        Campaign.objects.filter(pk=updated.pk).delete()
        return updated

    monkeypatch.setattr(services, "update_campaign", update_then_deleted_elsewhere)
    response = manager_api.patch(f"/api/campaigns/{campaign.pk}/", {"name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response.json()["counts"] == {
        "pending": 0,
        "sending": 0,
        "sent": 0,
        "failed": 0,
        "expired": 0,
        "cancelled": 0,
    }
    assert response.json()["progress"] == 0.0
