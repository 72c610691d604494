"""Drafts in the web UI: listed, filtered, edited, deleted, reviewed and launched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging import services
from messaging.engine import lifecycle
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.models.counters import move_messages
from security.models import AuditEvent, AuditKind
from tests.conftest import make_campaign, make_client
from tests.dashboard.test_campaigns import form_data

pytestmark = pytest.mark.django_db


def make_draft(**values) -> Campaign:
    now = timezone.now()
    values.setdefault("text", "Hello")
    values.setdefault("start_at", now - timedelta(minutes=1))
    values.setdefault("end_at", now + timedelta(hours=2))
    return services.create_campaign(values=values, draft=True)


def test_the_form_saves_a_draft_that_sends_nothing(as_manager):
    make_client("79161234567")
    response = as_manager.post(reverse("dashboard:campaign-create"), form_data(), follow=True)
    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.DRAFT
    assert not Message.objects.exists()
    html = response.content.decode()
    assert "Nothing is sent until you review and launch it." in html
    assert 'id="action-launch"' in html and "data-draft" in html


def test_drafts_are_listed_and_filtered(as_viewer):
    make_draft(name="Not yet")
    make_campaign(name="Planned")
    url = reverse("dashboard:campaign-list")
    html = as_viewer.get(url, {"status": "draft"}).content.decode()
    assert "Not yet" in html and "Planned" not in html
    assert "Draft" in html


def test_a_drafts_filter_is_edited_in_the_form(as_manager):
    make_client("79161234567", code="916")
    make_client("79031234567", code="903")
    draft = make_draft(operator_codes=["916"])
    url = reverse("dashboard:campaign-edit", args=[draft.pk])
    response = as_manager.post(url, form_data(operator_codes="903", name="Edited"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.operator_codes == ["903"] and draft.status == CampaignStatus.DRAFT


def test_a_draft_is_deleted(as_manager):
    draft = make_draft()
    url = reverse("dashboard:campaign-action", args=[draft.pk, "delete"])
    assert as_manager.post(url).status_code == 302
    assert not Campaign.objects.exists()


def test_the_review_names_the_number_and_the_launch_records_who(as_manager, manager):
    for i in range(3):
        make_client(f"7916123456{i}")
    draft = make_draft(name="Spring")
    url = reverse("dashboard:campaign-review", args=[draft.pk])
    html = as_manager.get(url).content.decode()
    assert "<strong>all 3 clients</strong>" in html
    assert "Send to 3 clients" in html
    response = as_manager.post(url, {"recipients": "3"}, follow=True)
    assert "Launched: sending has started." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.RUNNING
    assert draft.launched_by == manager and draft.launched_at is not None
    page = response.content.decode()
    assert "data-launched" in page and "by manager" in page
    audit = as_manager.get(reverse("dashboard:audit")).content.decode()
    assert "Campaign launched" in audit
    assert reverse("dashboard:campaign-detail", args=[draft.pk]) in audit
    assert "3 recipients" in audit
    assert AuditEvent.objects.filter(kind=AuditKind.CAMPAIGN_LAUNCHED).count() == 1


def test_a_launch_is_refused_when_the_recipients_changed_since_the_review(as_manager):
    make_client("79161234560")
    draft = make_draft()
    url = reverse("dashboard:campaign-review", args=[draft.pk])
    make_client("79161234561")  # imported while the review was open
    response = as_manager.post(url, {"recipients": "1"}, follow=True)
    assert "The recipients changed since this review was shown" in response.content.decode()
    assert "Send to 2 clients" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT


def test_a_viewer_reads_the_review_but_cannot_launch(as_viewer):
    make_client("79161234560")
    draft = make_draft()
    url = reverse("dashboard:campaign-review", args=[draft.pk])
    html = as_viewer.get(url).content.decode()
    assert 'data-review="recipients"' in html and "launch-campaign" not in html
    assert as_viewer.post(url, {"recipients": "1"}).status_code == 403
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT


def test_the_dashboard_counts_drafts_apart_from_sending(as_viewer):
    make_draft(name="Quiet draft")
    html = as_viewer.get(reverse("dashboard:home")).content.decode()
    assert "1</span> draft" in html
    assert "Quiet draft" not in html  # not among the running campaigns


def test_a_cancelled_campaign_says_how_many_were_with_the_provider(as_viewer):
    clients = [make_client(f"7916123456{i}") for i in range(4)]
    campaign = make_campaign(start_in=timedelta(minutes=-1))
    lifecycle.start_campaign(campaign.pk, timezone.now())
    move_messages(
        Message.objects.filter(client__in=clients[:3]), [MessageStatus.PENDING], "sending"
    )
    services.cancel_campaign(campaign=campaign)
    html = as_viewer.get(reverse("dashboard:campaign-detail", args=[campaign.pk])).content
    assert (
        "3 were already with the provider when the campaign was cancelled; "
        "each counts as sent if the provider accepts it"
    ) in html.decode()
