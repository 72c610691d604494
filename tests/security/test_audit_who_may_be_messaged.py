"""Opt-outs, opt-ins and stop list changes decide who campaigns reach: each is in the audit
trail with who asked, from where, and what changed, from the web UI and from the API alike.
A refused request records nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from messaging import services
from messaging.models import StopListEntry, Via
from security.models import AuditEvent, AuditKind
from tests.conftest import make_client

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.44"


WHO_MAY_BE_MESSAGED = [
    AuditKind.OPTED_OUT,
    AuditKind.OPTED_IN,
    AuditKind.STOP_LIST_ADDED,
    AuditKind.STOP_LIST_REMOVED,
]


def events() -> list[tuple[str, str, str | None, str]]:
    """These kinds only (a test client's sign-in or token is recorded too)."""
    recorded = AuditEvent.objects.filter(kind__in=WHO_MAY_BE_MESSAGED).order_by("id")
    return [(e.kind, e.username, e.address, e.detail) for e in recorded]


def test_each_change_through_the_api_is_recorded(manager_api):
    client = make_client("79161234567")
    api = {"REMOTE_ADDR": ADDRESS}
    body = {"reason": "replied STOP"}
    assert manager_api.post(f"/api/clients/{client.pk}/opt-out/", body, **api).status_code == 200
    assert manager_api.post(f"/api/clients/{client.pk}/opt-in/", **api).status_code == 200
    phones = {"phones": ["79161234567", "79160000000"]}
    assert (
        manager_api.post("/api/clients/opt-out/", phones, format="json", **api).status_code == 200
    )
    phones = {"phones": ["79250000001"]}
    assert manager_api.post("/api/stop-list/", phones, format="json", **api).status_code == 200
    upload = SimpleUploadedFile("stop.csv", b"79250000002\n79250000001\n")
    answer = manager_api.post("/api/stop-list/import/", {"file": upload}, format="multipart", **api)
    assert answer.status_code == 200
    assert manager_api.delete("/api/stop-list/79250000002/", **api).status_code == 204

    assert events() == [
        (AuditKind.OPTED_OUT, "manager", ADDRESS, f"client={client.pk}; via=api; cancelled=0"),
        (AuditKind.OPTED_IN, "manager", ADDRESS, f"client={client.pk}"),
        (
            AuditKind.OPTED_OUT,
            "manager",
            ADDRESS,
            "phones=2; clients=1; stop_list_added=2; via=api; cancelled=0",
        ),
        (AuditKind.STOP_LIST_ADDED, "manager", ADDRESS, "phones=1; added=1; via=api; cancelled=0"),
        (
            AuditKind.STOP_LIST_ADDED,
            "manager",
            ADDRESS,
            "phones=2; added=1; via=import; cancelled=0",
        ),
        (AuditKind.STOP_LIST_REMOVED, "manager", ADDRESS, "phone=79250000002"),
    ]


def test_each_change_in_the_web_ui_is_recorded(as_manager):
    client = make_client("79161234567")
    ui = {"REMOTE_ADDR": ADDRESS}
    opt_out = reverse("dashboard:client-opt-out", args=[client.pk])
    assert as_manager.post(opt_out, {"reason": "звонил"}, **ui).status_code == 302
    assert (
        as_manager.post(reverse("dashboard:client-opt-in", args=[client.pk]), **ui).status_code
        == 302
    )
    add = {"add-phones": "8 925 000-00-01", "add-reason": ""}
    assert as_manager.post(reverse("dashboard:client-stop-list-add"), add, **ui).status_code == 302
    upload = SimpleUploadedFile("stop.csv", b"79250000002\n")
    imported = as_manager.post(
        reverse("dashboard:client-stop-list-import"), {"import-file": upload}, **ui
    )
    assert imported.status_code == 200
    remove = reverse("dashboard:client-stop-list-remove", args=["79250000001"])
    assert as_manager.post(remove, **ui).status_code == 302

    assert [(kind, user, address) for kind, user, address, _ in events()] == [
        (AuditKind.OPTED_OUT, "manager", ADDRESS),
        (AuditKind.OPTED_IN, "manager", ADDRESS),
        (AuditKind.STOP_LIST_ADDED, "manager", ADDRESS),
        (AuditKind.STOP_LIST_ADDED, "manager", ADDRESS),
        (AuditKind.STOP_LIST_REMOVED, "manager", ADDRESS),
    ]
    assert events()[0][3] == f"client={client.pk}; via=hand; cancelled=0"
    assert events()[4][3] == "phone=79250000001"


def test_a_refused_change_records_nothing(manager_api, as_manager, viewer_api):
    make_client("79161234567")
    bad = {"phones": ["79161234567", "12345"]}
    assert manager_api.post("/api/clients/opt-out/", bad, format="json").status_code == 400
    assert manager_api.post("/api/stop-list/", bad, format="json").status_code == 400
    assert viewer_api.post("/api/stop-list/", {"phones": ["79161234567"]}).status_code == 403
    assert manager_api.delete("/api/stop-list/79169999999/").status_code == 404
    form = {"add-phones": "12345", "add-reason": ""}
    assert as_manager.post(reverse("dashboard:client-stop-list-add"), form).status_code == 400
    assert events() == []
    assert not StopListEntry.objects.exists()


def test_taking_an_unlisted_phone_off_records_nothing():
    assert services.remove_from_stop_list(phone="79169999999") == 0
    assert events() == []


def test_the_audit_page_says_what_changed_in_the_viewers_language(as_manager):
    client = make_client("79161234567")
    services.opt_out(client=client, via=Via.API, reason="STOP")
    services.add_to_stop_list(phones=["79160000001", "79160000002"], via=Via.HAND)
    services.remove_from_stop_list(phone="79160000001")
    page = reverse("dashboard:audit")
    html = as_manager.get(page).content.decode()
    assert f'<a href="/clients/{client.pk}/">Client #{client.pk}</a>, API' in html
    assert "2 phones, new on the list: 2, by hand" in html
    assert "+7 (916) 000-00-01" in html
    as_manager.cookies["django_language"] = "ru"
    with translation.override("ru"):
        html = as_manager.get(page, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Стоп-лист: добавление" in html and "Стоп-лист: удаление" in html
    assert f"Клиент №{client.pk}" in html and "Отписка" in html
    assert "2 номера, новых в списке: 2" in html


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        (AuditKind.OPTED_OUT, "client=x; via=hand; cancelled=0"),
        (AuditKind.OPTED_IN, ""),
        (AuditKind.STOP_LIST_ADDED, "phones=1; added=1; via=pigeon; cancelled=0"),
        (AuditKind.CAMPAIGN_LAUNCHED, "campaign=<b>1</b>; recipients=2"),
    ],
)
def test_a_detail_that_does_not_read_as_its_kind_is_shown_as_stored_and_escaped(kind, detail):
    from django.template import Context, Template

    event = AuditEvent(kind=kind, detail=detail)
    html = Template("{% load herald %}{% audit_event_detail event %}").render(
        Context({"event": event})
    )
    assert html == detail.replace("<", "&lt;").replace(">", "&gt;")


def test_an_audit_row_that_cannot_be_stored_does_not_undo_the_change(caplog):
    """The audit is written in the change's transaction: a failed insert (here an address
    PostgreSQL's inet type refuses) must leave the change itself standing."""
    client = make_client("79161234567")
    cancelled = services.opt_out(client=client, via=Via.HAND, address="not an address")
    assert cancelled == 0
    client.refresh_from_db()
    assert client.opted_out_at is not None
    assert StopListEntry.objects.filter(phone="79161234567").exists()
