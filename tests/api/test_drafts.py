"""Drafts over the API: create one, change its filter, review it, launch it; and the refusals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_q.models import Schedule

from messaging import tasks
from messaging.models import Campaign, CampaignStatus, Message
from security.models import AuditEvent, AuditKind
from tests.conftest import make_client

pytestmark = pytest.mark.django_db


def iso(moment) -> str:
    return moment.isoformat()


def draft_body(**values) -> dict:
    now = timezone.now()
    body = {
        "name": "Spring",
        "text": "Hello",
        "start_at": iso(now - timedelta(minutes=1)),
        "end_at": iso(now + timedelta(hours=2)),
        "draft": True,
    }
    body.update(values)
    return body


@pytest.fixture
def clients(db):
    return [
        make_client("79160000001", tag="vip", code="916"),
        make_client("79160000002", tag="", code="916"),
        make_client("79030000003", tag="vip", code="903", tz="Asia/Vladivostok"),
    ]


def test_a_draft_is_created_and_the_engine_never_touches_it(manager_api, clients):
    response = manager_api.post("/api/campaigns/", draft_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert "draft" not in body  # write-only
    assert body["launched_at"] is None and body["launched_by"] is None
    campaign_id = body["id"]
    # Its window holds now, yet nothing starts: no schedule, no targets, no senders.
    tasks.tick()
    assert Campaign.objects.get(pk=campaign_id).status == CampaignStatus.DRAFT
    assert not Message.objects.exists()
    assert not Schedule.objects.filter(name__startswith=f"campaign-{campaign_id}-").exists()


def test_without_draft_a_campaign_still_starts_by_itself(manager_api, clients):
    body = draft_body()
    del body["draft"]
    response = manager_api.post("/api/campaigns/", body, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "running"
    assert response.json()["counts"]["pending"] == 3


def test_a_drafts_filter_can_change(manager_api, clients):
    campaign_id = manager_api.post("/api/campaigns/", draft_body(), format="json").json()["id"]
    response = manager_api.patch(
        f"/api/campaigns/{campaign_id}/", {"operator_codes": ["903"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["operator_codes"] == ["903"]
    assert response.json()["status"] == "draft"
    review = manager_api.get(f"/api/campaigns/{campaign_id}/review/").json()
    assert review["recipients"] == 1 and review["all_clients"] is False


def test_the_review_gives_recipients_parts_cost_windows_and_warnings(
    manager_api, clients, settings
):
    settings.SMS_PART_PRICE = Decimal("2.5")
    settings.SMS_CURRENCY = "RUB"
    now = timezone.now()
    body = draft_body(
        text="Привет! " * 10,  # 80 UCS-2 characters: 2 parts
        end_at=iso(now + timedelta(minutes=30)),
    )
    campaign_id = manager_api.post("/api/campaigns/", body, format="json").json()["id"]
    review = manager_api.get(f"/api/campaigns/{campaign_id}/review/")
    assert review.status_code == 200, review.json()
    data = review.json()
    assert data["recipients"] == 3 and data["all_clients"] is True
    assert [(r["code"], r["count"]) for r in data["left_out"]] == [
        ("opted_out", 0),
        ("stop_list", 0),
    ]
    assert (data["encoding"], data["parts_per_message"], data["total_parts"]) == ("UCS-2", 2, 6)
    assert (data["part_price"], data["currency"], data["cost"]) == ("2.5", "RUB", "15.00")
    assert (data["windows_open"], data["windows_never_open"]) == (3, 0)
    codes = [w["code"] for w in data["warnings"]]
    assert codes == ["short", "start_past", "long_text"]
    assert all(w["message"] for w in data["warnings"])


def test_the_review_counts_clients_whose_window_never_opens_before_the_end(manager_api, clients):
    # A window of the next 2-3 hours in Moscow, a 1-hour campaign: Moscow clients get no
    # opening; Vladivostok, 7 hours ahead, is outside it too unless it wraps there.
    moscow = timezone.localtime(timezone.now(), timezone.get_fixed_timezone(180))
    opens = (moscow + timedelta(hours=2)).strftime("%H:%M")
    closes = (moscow + timedelta(hours=3)).strftime("%H:%M")
    body = draft_body(
        end_at=iso(timezone.now() + timedelta(hours=1)),
        operator_codes=["916"],
        send_window_start=opens,
        send_window_end=closes,
    )
    campaign_id = manager_api.post("/api/campaigns/", body, format="json").json()["id"]
    data = manager_api.get(f"/api/campaigns/{campaign_id}/review/").json()
    assert (data["recipients"], data["windows_open"], data["windows_never_open"]) == (2, 0, 2)
    warning = next(w for w in data["warnings"] if w["code"] == "window_never_opens")
    assert warning["message"].startswith("For 2 clients the send window does not open")
    assert data["cost"] is None and data["part_price"] is None  # no price set


def test_launch_starts_the_draft_and_records_who_and_when(manager_api, manager, clients):
    campaign_id = manager_api.post("/api/campaigns/", draft_body(), format="json").json()["id"]
    response = manager_api.post(f"/api/campaigns/{campaign_id}/launch/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "running"  # its window holds now: started in the request
    assert body["counts"]["pending"] == 3
    assert body["launched_by"] == "manager" and body["launched_at"]
    event = AuditEvent.objects.get(kind=AuditKind.CAMPAIGN_LAUNCHED)
    assert event.user == manager
    assert event.detail == f"campaign={campaign_id}; recipients=3"


def test_a_future_draft_launches_as_scheduled(manager_api, clients):
    now = timezone.now()
    body = draft_body(start_at=iso(now + timedelta(hours=1)), end_at=iso(now + timedelta(hours=2)))
    campaign_id = manager_api.post("/api/campaigns/", body, format="json").json()["id"]
    response = manager_api.post(f"/api/campaigns/{campaign_id}/launch/")
    assert response.json()["status"] == "scheduled"
    assert Schedule.objects.filter(name=f"campaign-{campaign_id}-start").exists()


def test_launching_a_campaign_that_is_not_a_draft_is_refused(manager_api, clients):
    body = draft_body()
    del body["draft"]
    campaign_id = manager_api.post("/api/campaigns/", body, format="json").json()["id"]
    response = manager_api.post(f"/api/campaigns/{campaign_id}/launch/")
    assert response.status_code == 400
    assert response.json() == {"status": ["A running campaign cannot be launched."]}


def test_a_draft_whose_end_passed_cannot_be_launched(manager_api, clients, time_machine):
    campaign_id = manager_api.post("/api/campaigns/", draft_body(), format="json").json()["id"]
    time_machine.move_to(timezone.now() + timedelta(hours=3))
    response = manager_api.post(f"/api/campaigns/{campaign_id}/launch/")
    assert response.status_code == 400
    assert "end_at" in response.json()
    assert Campaign.objects.get(pk=campaign_id).status == CampaignStatus.DRAFT


def test_a_launched_campaigns_filter_cannot_change(manager_api, clients):
    campaign_id = manager_api.post("/api/campaigns/", draft_body(), format="json").json()["id"]
    manager_api.post(f"/api/campaigns/{campaign_id}/launch/")
    response = manager_api.patch(
        f"/api/campaigns/{campaign_id}/", {"operator_codes": ["903"]}, format="json"
    )
    assert response.status_code == 400
    assert "operator_codes" in response.json()
    assert Campaign.objects.get(pk=campaign_id).operator_codes == []


def test_a_started_campaign_has_no_review(manager_api, clients):
    campaign_id = manager_api.post("/api/campaigns/", draft_body(), format="json").json()["id"]
    manager_api.post(f"/api/campaigns/{campaign_id}/launch/")
    response = manager_api.get(f"/api/campaigns/{campaign_id}/review/")
    assert response.status_code == 400
    assert list(response.json()) == ["status"]


def test_draft_is_only_for_creating(manager_api, clients):
    campaign_id = manager_api.post("/api/campaigns/", draft_body(), format="json").json()["id"]
    response = manager_api.patch(f"/api/campaigns/{campaign_id}/", {"draft": False}, format="json")
    assert response.status_code == 400
    assert "launch/" in response.json()["draft"][0]
    assert Campaign.objects.get(pk=campaign_id).status == CampaignStatus.DRAFT


def test_viewers_may_review_but_not_launch(manager_api, viewer_api, clients):
    campaign_id = manager_api.post("/api/campaigns/", draft_body(), format="json").json()["id"]
    assert viewer_api.get(f"/api/campaigns/{campaign_id}/review/").status_code == 200
    assert viewer_api.post(f"/api/campaigns/{campaign_id}/launch/").status_code == 403
    assert Campaign.objects.get(pk=campaign_id).status == CampaignStatus.DRAFT


def test_drafts_are_left_out_of_the_sending_figures(manager_api, clients):
    manager_api.post("/api/campaigns/", draft_body(), format="json")
    stats = manager_api.get("/api/stats/").json()
    assert stats["campaigns"] == []
    assert stats["campaigns_by_status"]["draft"] == 1
    assert stats["total_messages"] == 0
