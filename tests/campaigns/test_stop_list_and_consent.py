"""Opt-outs, the stop list and consent through the API and the web UI (what the engine does
with them: tests/engine/test_who_may_be_messaged.py)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from messaging import services
from messaging.models import Client, StopListEntry, Via
from tests.conftest import make_client
from tests.dashboard.test_drafts import make_draft
from tests.engine.conftest import local_provider, provider  # noqa: F401 (fixtures)
from tests.engine.test_test_send import URL as TEST_SEND_URL
from tests.engine.test_test_send import to_local_provider  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_opt_out_and_opt_in_through_the_api(manager_api):
    client = make_client("79161234567")
    answer = manager_api.post(
        f"/api/clients/{client.pk}/opt-out/", {"reason": "replied STOP"}, format="json"
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["opted_out_via"] == "api" and body["opted_out_reason"] == "replied STOP"
    assert body["opted_out_at"] and body["stop_listed"] is True
    # Read-only: a PATCH cannot clear it, only opt-in does.
    manager_api.patch(f"/api/clients/{client.pk}/", {"tag": "x"}, format="json")
    assert Client.objects.get(pk=client.pk).opted_out_at is not None
    answer = manager_api.post(f"/api/clients/{client.pk}/opt-in/")
    assert answer.status_code == 200
    assert answer.json()["opted_out_at"] is None and answer.json()["stop_listed"] is False
    assert not StopListEntry.objects.exists()


def test_a_viewer_cannot_opt_anyone_out(viewer_api):
    client = make_client("79161234567")
    assert viewer_api.post(f"/api/clients/{client.pk}/opt-out/").status_code == 403
    assert viewer_api.post("/api/stop-list/", {"phones": ["79161234567"]}).status_code == 403


def test_bulk_opt_out_refuses_a_bad_phone_and_saves_nothing(manager_api):
    make_client("79161234567")
    answer = manager_api.post(
        "/api/clients/opt-out/", {"phones": ["79161234567", "12345"]}, format="json"
    )
    assert answer.status_code == 400 and "12345" in answer.json()["phones"][0]
    assert not StopListEntry.objects.exists()
    answer = manager_api.post(
        "/api/clients/opt-out/", {"phones": ["8 916 123-45-67", "79160000000"]}, format="json"
    )
    assert answer.json() == {"opted_out": 1, "added_to_stop_list": 2, "cancelled_messages": 0}


def test_the_stop_list_imports_what_excel_writes_and_exports_to_read_back(manager_api):
    # Windows-1251, ";" and CRLF, Russian header, a bad row among them.
    data = "Телефон;Причина\r\n+7 916 123-45-67;просил\r\n12;x\r\n89250000000;\r\n".encode("cp1251")
    upload = SimpleUploadedFile("stop.csv", data, content_type="text/csv")
    answer = manager_api.post("/api/stop-list/import/", {"file": upload}, format="multipart")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["added"], body["already"], body["rejected_count"]) == (2, 0, 1)
    assert body["rejected"][0]["line"] == 3
    assert StopListEntry.objects.get(phone="79161234567").via == Via.IMPORT

    exported = manager_api.get("/api/stop-list/export/", {"format_as": "excel"})
    assert exported.status_code == 200
    text = b"".join(exported.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["phone", "added_at", "via", "reason"]
    assert sorted(r[0] for r in rows[1:]) == ["79161234567", "79250000000"]
    # Read back as it is: nothing new.
    StopListEntry.objects.all().delete()
    again = SimpleUploadedFile("stop.csv", text.encode("utf-8-sig"), content_type="text/csv")
    body = manager_api.post("/api/stop-list/import/", {"file": again}, format="multipart").json()
    assert (body["added"], body["rejected_count"]) == (2, 0)


def test_a_file_that_cannot_be_read_is_a_400_on_the_file(manager_api):
    upload = SimpleUploadedFile("old.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    answer = manager_api.post("/api/stop-list/import/", {"file": upload}, format="multipart")
    assert answer.status_code == 400 and "xlsx" in answer.json()["file"][0]
    assert not StopListEntry.objects.exists()


def test_a_headerless_list_of_phones_imports_from_the_first_row(manager_api):
    upload = SimpleUploadedFile("stop.csv", b"79161234567\n79161234568\n")
    body = manager_api.post("/api/stop-list/import/", {"file": upload}, format="multipart").json()
    assert body["added"] == 2


def test_the_stop_list_lists_and_removes_a_phone(manager_api):
    services.add_to_stop_list(phones=["79161234567"], via=Via.HAND, reason="complaint")
    listed = manager_api.get("/api/stop-list/").json()["results"]
    assert [(e["phone"], e["via"], e["reason"]) for e in listed] == [
        ("79161234567", "hand", "complaint")
    ]
    assert manager_api.delete("/api/stop-list/79161234567/").status_code == 204
    assert not StopListEntry.objects.exists()


def test_the_clients_api_and_page_filter_by_opt_out_stop_list_and_consent(manager_api, as_manager):
    from django.utils import timezone

    opted = make_client("79161234567")
    listed = make_client("79161234568")
    agreed = make_client("79161234569")
    services.opt_out(client=opted, via=Via.HAND)
    services.add_to_stop_list(phones=[listed.phone], via=Via.API)
    Client.objects.filter(pk=agreed.pk).update(consent_at=timezone.now())

    def phones(standing):
        results = manager_api.get("/api/clients/", {"standing": standing}).json()["results"]
        return sorted(c["phone"] for c in results)

    assert phones("opted_out") == [opted.phone]
    assert phones("stop_listed") == sorted([opted.phone, listed.phone])
    assert phones("consent") == [agreed.phone]
    assert phones("no_consent") == sorted([opted.phone, listed.phone])
    page = as_manager.get(reverse("dashboard:client-list"), {"standing": "consent"})
    html = page.content.decode()
    assert "+7 (916) 123-45-69" in html and "+7 (916) 123-45-67" not in html


def test_opting_out_in_the_ui_cancels_pending_messages_and_says_so(as_manager):
    from tests.engine.conftest import running_campaign

    client = make_client("79161234567")
    campaign = running_campaign()
    response = as_manager.post(
        reverse("dashboard:client-opt-out", args=[client.pk]), {"reason": "asked"}, follow=True
    )
    html = response.content.decode()
    assert "opted out" in html and "1 pending message was cancelled." in html
    client.refresh_from_db()
    assert (client.opted_out_via, client.opted_out_reason) == (Via.HAND, "asked")
    message = campaign.messages.get()
    assert (message.status, message.last_error) == ("cancelled", "Client opted out")
    page = as_manager.get(reverse("dashboard:message-detail", args=[message.pk])).content.decode()
    assert "Cancelled: the client opted out of messages." in page

    as_manager.post(reverse("dashboard:client-opt-in", args=[client.pk]))
    client.refresh_from_db()
    assert client.opted_out_at is None and not StopListEntry.objects.exists()


def test_consent_is_given_and_withdrawn_on_the_client_form(as_manager):
    client = make_client("79161234567")
    url = reverse("dashboard:client-edit", args=[client.pk])
    data = {"phone": client.phone, "timezone": "Europe/Moscow", "custom_fields": ""}
    as_manager.post(url, {**data, "consent": "on", "consent_source": "signed form"})
    client.refresh_from_db()
    given = client.consent_at
    assert given is not None and client.consent_source == "signed form"
    as_manager.post(url, {**data, "consent": "on", "consent_source": "signed form"})
    client.refresh_from_db()
    assert client.consent_at == given  # kept as first given
    as_manager.post(url, data)
    client.refresh_from_db()
    assert client.consent_at is None


def test_a_test_send_to_an_opted_out_client_is_refused(as_manager, to_local_provider):  # noqa: F811
    client = make_client("79161234567")
    services.opt_out(client=client, via=Via.HAND)
    response = as_manager.post(TEST_SEND_URL, {"text": "Hi", "test_phone": "79161234567"})
    assert response.status_code == 400
    assert "This client opted out of messages" in response.content.decode()
    services.add_to_stop_list(phones=["79160000000"], via=Via.HAND)
    response = as_manager.post(TEST_SEND_URL, {"text": "Hi", "test_phone": "79160000000"})
    assert "This phone is on the stop list" in response.content.decode()
    assert to_local_provider.receipts()["total"] == 0


def test_the_review_page_and_the_campaign_page_say_who_is_left_out(as_manager):
    opted, _kept = make_client("79161234567"), make_client("79161234568")
    services.opt_out(client=opted, via=Via.HAND)
    draft = make_draft(promotional=True)
    review = as_manager.get(reverse("dashboard:campaign-review", args=[draft.pk])).content.decode()
    assert "opted out: 1" in review and "no consent to promotional messages: 1" in review
    detail = as_manager.get(reverse("dashboard:campaign-detail", args=[draft.pk])).content.decode()
    assert "opted out: 1" in detail and "if it started now" in detail
