from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.models.counters import add_pending
from tests.conftest import force_status, make_campaign, make_client

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/"


def payload(**overrides):
    start = timezone.now() + timedelta(hours=1)
    data = {
        "name": "Friday",
        "text": "Hello there",
        "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=3)).isoformat(),
        "operator_codes": ["916", "926"],
        "tags": ["vip"],
    }
    data.update(overrides)
    return data


def test_create_campaign(manager_api):
    response = manager_api.post(URL, payload(send_window_start="21:00", send_window_end="09:00"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "scheduled"
    assert body["counts"]["pending"] == 0
    assert body["send_window_start"] == "21:00:00"
    campaign = Campaign.objects.get()
    assert campaign.operator_codes == ["916", "926"]
    assert campaign.tags == ["vip"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end_at": "START"}, "end_at"),
        ({"end_at": "BEFORE"}, "end_at"),
        ({"send_window_start": "09:00"}, "send_window_end"),
        ({"send_window_end": "09:00"}, "send_window_start"),
        ({"send_window_start": "09:00", "send_window_end": "09:00"}, "send_window_end"),
        ({"send_window_start": "25:00", "send_window_end": "09:00"}, "send_window_start"),
        ({"operator_codes": ["91"]}, "operator_codes"),
        ({"operator_codes": "916"}, "operator_codes"),
        ({"tags": ["x" * 101]}, "tags"),
        ({"text": ""}, "text"),
        ({"start_at": "PAST", "end_at": "PAST_END"}, "end_at"),
        ({"start_at": "tomorrow"}, "start_at"),
    ],
)
def test_invalid_campaign_is_rejected_with_field_message_and_nothing_saved(
    manager_api, overrides, field
):
    data = payload()
    if overrides.get("end_at") == "START":
        overrides["end_at"] = data["start_at"]
    elif overrides.get("end_at") == "BEFORE":
        overrides["end_at"] = (timezone.now() - timedelta(days=1)).isoformat()
    if overrides.get("start_at") == "PAST":
        overrides["start_at"] = (timezone.now() - timedelta(days=2)).isoformat()
        overrides["end_at"] = (timezone.now() - timedelta(days=1)).isoformat()
    response = manager_api.post(URL, payload(**{**data, **overrides}))
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Campaign.objects.count() == 0


def test_edit_before_start_may_change_everything(manager_api):
    campaign = make_campaign(operator_codes=["916"])
    response = manager_api.patch(
        f"{URL}{campaign.pk}/", {"operator_codes": ["926"], "tags": ["a"], "text": "New"}
    )
    assert response.status_code == 200, response.json()
    campaign.refresh_from_db()
    assert (campaign.operator_codes, campaign.tags, campaign.text) == (["926"], ["a"], "New")


def _start(campaign):
    force_status(campaign.pk, CampaignStatus.RUNNING, targets_selected_at=timezone.now())


def test_filter_change_after_start_is_refused(manager_api):
    campaign = make_campaign(operator_codes=["916"])
    _start(campaign)
    response = manager_api.patch(f"{URL}{campaign.pk}/", {"operator_codes": ["926"], "text": "X"})
    assert response.status_code == 400
    assert "operator_codes" in response.json()
    campaign.refresh_from_db()
    assert (campaign.operator_codes, campaign.text) == (["916"], "Hello")


def test_text_and_end_change_after_start(manager_api):
    campaign = make_campaign()
    _start(campaign)
    new_end = campaign.end_at + timedelta(hours=5)
    response = manager_api.patch(
        f"{URL}{campaign.pk}/",
        {"text": "Changed", "end_at": new_end.isoformat(), "operator_codes": []},
    )
    assert response.status_code == 200, response.json()
    campaign.refresh_from_db()
    assert (campaign.text, campaign.end_at) == ("Changed", new_end)


def test_edit_end_before_start_is_refused(manager_api):
    campaign = make_campaign()
    response = manager_api.patch(
        f"{URL}{campaign.pk}/", {"end_at": (campaign.start_at - timedelta(minutes=1)).isoformat()}
    )
    assert response.status_code == 400
    assert "end_at" in response.json()


def test_pause_resume_cancel(manager_api):
    campaign = make_campaign()
    client = make_client("79161234567")
    Message.objects.create(campaign=campaign, client=client, phone=client.phone)
    add_pending(campaign.pk, 1)

    assert manager_api.post(f"{URL}{campaign.pk}/pause/").json()["status"] == "paused"
    again = manager_api.post(f"{URL}{campaign.pk}/pause/")
    assert again.status_code == 400 and "status" in again.json()
    assert manager_api.post(f"{URL}{campaign.pk}/resume/").json()["status"] == "scheduled"
    cancelled = manager_api.post(f"{URL}{campaign.pk}/cancel/").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["counts"]["cancelled"] == 1 and cancelled["counts"]["pending"] == 0
    assert Message.objects.get().status == MessageStatus.CANCELLED
    assert manager_api.post(f"{URL}{campaign.pk}/resume/").status_code == 400


def test_edit_of_cancelled_campaign_is_refused(manager_api):
    campaign = make_campaign()
    manager_api.post(f"{URL}{campaign.pk}/cancel/")
    response = manager_api.patch(f"{URL}{campaign.pk}/", {"text": "late"})
    assert response.status_code == 400


def test_delete_campaign(manager_api):
    campaign = make_campaign()
    assert manager_api.delete(f"{URL}{campaign.pk}/").status_code == 204
    assert not Campaign.objects.exists()


def test_campaign_messages_filter_by_status(viewer_api):
    campaign = make_campaign()
    for i in range(3):
        client = make_client(f"7916123456{i}")
        Message.objects.create(
            campaign=campaign,
            client=client,
            phone=client.phone,
            status=MessageStatus.SENT if i else MessageStatus.PENDING,
        )
    all_messages = viewer_api.get(f"{URL}{campaign.pk}/messages/").json()
    assert all_messages["count"] == 3
    sent = viewer_api.get(f"{URL}{campaign.pk}/messages/", {"status": "sent"}).json()
    assert sent["count"] == 2
    bad = viewer_api.get(f"{URL}{campaign.pk}/messages/", {"status": "nope"})
    assert bad.status_code == 400
    assert viewer_api.get(f"{URL}999999/messages/").status_code == 404


def test_message_detail_has_attempts(viewer_api):
    campaign = make_campaign()
    message = Message.objects.create(campaign=campaign, phone="79161234567")
    message.delivery_attempts.create(
        started_at=timezone.now(), duration_ms=21, http_status=200, outcome="ok"
    )
    body = viewer_api.get(f"/api/messages/{message.pk}/").json()
    assert body["phone"] == "79161234567"
    assert body["delivery_attempts"][0]["outcome"] == "ok"
    assert body["delivery_attempts"][0]["http_status"] == 200


@pytest.mark.parametrize(
    "change",
    [
        lambda services, c: services.update_campaign(campaign=c, values={"name": "Renamed"}),
        lambda services, c: services.pause_campaign(campaign=c),
        lambda services, c: services.resume_campaign(campaign=c),
        lambda services, c: services.cancel_campaign(campaign=c),
        lambda services, c: services.retry_failed_messages(campaign=c),
    ],
    ids=["edit", "pause", "resume", "cancel", "retry"],
)
def test_a_change_to_a_campaign_deleted_meanwhile_is_a_404_not_a_500(change):
    # Found by the API fuzzing: a PATCH read the campaign, a concurrent DELETE removed it.
    from django.http import Http404

    from messaging import services

    stale = make_campaign()
    Campaign.objects.filter(pk=stale.pk).delete()
    with pytest.raises(Http404):
        change(services, stale)
    assert not Campaign.objects.exists()
