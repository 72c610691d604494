"""Rule 15: opted-out, stop-listed and (for a promotional campaign) unconsented clients are
never sent to, checked at target selection and again when messages are claimed.

Against the local provider over HTTP: what it received is what was sent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from messaging import services
from messaging.campaigns.review import review_campaign
from messaging.engine import lifecycle
from messaging.models import (
    Campaign,
    CampaignCounts,
    Client,
    Message,
    MessageStatus,
    StopListEntry,
    Via,
)
from tests.engine.conftest import make_clients, run_pump, running_campaign

pytestmark = pytest.mark.django_db


def received_phones(provider) -> set[str]:
    return {str(r["phone"]) for r in provider.receipts()["receipts"].values()}


def left_out(review) -> dict[str, int]:
    return {item.code: item.count for item in review.left_out}


def test_opted_out_and_stop_listed_clients_are_never_targeted(provider):
    opted, listed, kept = make_clients(3)
    services.opt_out(client=opted, via=Via.HAND, reason="asked by phone")
    StopListEntry.objects.create(phone=listed.phone)
    draft = services.create_campaign(
        values={
            "text": "Hello",
            "start_at": timezone.now() - timedelta(seconds=1),
            "end_at": timezone.now() + timedelta(hours=1),
        },
        draft=True,
    )
    review = review_campaign(draft)
    assert review.recipients == 1
    assert left_out(review) == {"opted_out": 1, "stop_list": 1}

    campaign = running_campaign()
    assert list(campaign.messages.values_list("phone", flat=True)) == [kept.phone]
    assert campaign.left_out_at_start == [
        {"code": "opted_out", "count": 1},
        {"code": "stop_list", "count": 1},
    ]
    run_pump(provider.url)
    assert received_phones(provider) == {kept.phone}


def test_an_opt_out_made_while_the_campaign_runs_cancels_the_pending_message(provider, manager_api):
    by_api, by_stop_list, by_raw_write, kept = make_clients(4)
    campaign = running_campaign()
    assert campaign.messages.count() == 4

    # Through the API: the service cancels at once, with the reason.
    answer = manager_api.post(
        f"/api/clients/{by_api.pk}/opt-out/", {"reason": "STOP"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["opted_out_via"] == "api" and answer.json()["stop_listed"] is True
    # The stop list, by the API too.
    answer = manager_api.post(
        "/api/stop-list/", {"phones": [f"+{by_stop_list.phone}"]}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["cancelled_messages"] == 1
    # Written behind the services' back (a racing request, the admin): the claim checks again.
    Client.objects.filter(pk=by_raw_write.pk).update(opted_out_at=timezone.now())

    run_pump(provider.url)

    assert received_phones(provider) == {kept.phone}
    reasons = dict(campaign.messages.values_list("phone", "last_error"))
    statuses = dict(campaign.messages.values_list("phone", "status"))
    assert statuses == {
        by_api.phone: MessageStatus.CANCELLED,
        by_stop_list.phone: MessageStatus.CANCELLED,
        by_raw_write.phone: MessageStatus.CANCELLED,
        kept.phone: MessageStatus.SENT,
    }
    assert reasons[by_api.phone] == "Client opted out"
    assert reasons[by_stop_list.phone] == "Phone on the stop list"
    assert reasons[by_raw_write.phone] == "Client opted out"
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert (counts.sent, counts.cancelled, counts.pending) == (1, 3, 0)


def test_a_stop_listed_phone_added_behind_the_services_back_is_caught_at_claim(provider):
    listed, kept = make_clients(2)
    campaign = running_campaign()
    StopListEntry.objects.create(phone=listed.phone)
    run_pump(provider.url)
    assert received_phones(provider) == {kept.phone}
    message = Message.objects.get(campaign=campaign, phone=listed.phone)
    assert (message.status, message.last_error) == (
        MessageStatus.CANCELLED,
        "Phone on the stop list",
    )


def test_deleting_and_reimporting_a_stop_listed_phone_does_not_bring_it_back(provider, manager_api):
    csv = b"phone,name\n79161110001,Anna\n79161110002,Boris\n"

    def import_file():
        upload = SimpleUploadedFile("clients.csv", csv, content_type="text/csv")
        answer = manager_api.post("/api/clients/import/", {"file": upload}, format="multipart")
        assert answer.status_code == 200, answer.json()

    import_file()
    anna = Client.objects.get(phone="79161110001")
    opted = manager_api.post(f"/api/clients/{anna.pk}/opt-out/", {}, format="json")
    assert opted.status_code == 200
    assert manager_api.delete(f"/api/clients/{anna.pk}/").status_code == 204
    import_file()
    again = Client.objects.get(phone="79161110001")
    assert again.pk != anna.pk and again.opted_out_at is None  # a new client row...
    # ...whose phone is still on the stop list.
    listed = manager_api.get("/api/clients/", {"standing": "stop_listed"}).json()["results"]
    assert [c["phone"] for c in listed] == ["79161110001"]
    # An import never clears an opt-out either.
    boris = Client.objects.get(phone="79161110002")
    services.opt_out(client=boris, via=Via.HAND)
    import_file()
    assert Client.objects.get(pk=boris.pk).opted_out_at is not None

    campaign = running_campaign()
    assert campaign.left_out_at_start == [
        {"code": "opted_out", "count": 1},
        {"code": "stop_list", "count": 1},
    ]
    run_pump(provider.url)
    assert received_phones(provider) == set()
    assert not campaign.messages.exists()


def test_a_promotional_campaign_skips_clients_without_consent(provider, manager_api):
    agreed, _unconsented = make_clients(2)
    Client.objects.filter(pk=agreed.pk).update(
        consent_at=timezone.now(), consent_source="signed form"
    )
    now = timezone.now()
    body = {
        "text": "Sale -30%",
        "start_at": (now - timedelta(seconds=1)).isoformat(),
        "end_at": (now + timedelta(hours=1)).isoformat(),
        "promotional": True,
        "draft": True,
    }
    created = manager_api.post("/api/campaigns/", body, format="json")
    assert created.status_code == 201, created.json()
    review = manager_api.get(f"/api/campaigns/{created.json()['id']}/review/").json()
    assert review["recipients"] == 1
    assert {r["code"]: r["count"] for r in review["left_out"]} == {
        "opted_out": 0,
        "stop_list": 0,
        "no_consent": 1,
    }
    launched = manager_api.post(f"/api/campaigns/{created.json()['id']}/launch/")
    assert launched.status_code == 200, launched.json()
    assert launched.json()["left_out_at_start"][-1] == {"code": "no_consent", "count": 1}
    run_pump(provider.url)
    assert received_phones(provider) == {agreed.phone}


def test_consent_withdrawn_while_a_promotional_campaign_runs_stops_its_message(provider):
    first, second = make_clients(2)
    Client.objects.update(consent_at=timezone.now())
    campaign = running_campaign(promotional=True)
    assert campaign.messages.count() == 2
    Client.objects.filter(pk=first.pk).update(consent_at=None)
    run_pump(provider.url)
    assert received_phones(provider) == {second.phone}
    assert Message.objects.get(campaign=campaign, phone=first.phone).last_error == (
        "No consent to promotional messages"
    )


def test_a_campaign_not_promotional_ignores_consent(provider):
    make_clients(2)
    campaign = running_campaign()
    assert not Campaign.objects.get(pk=campaign.pk).promotional
    lifecycle.start_campaign(campaign.pk, timezone.now())
    run_pump(provider.url)
    assert len(received_phones(provider)) == 2
