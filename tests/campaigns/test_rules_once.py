"""Each rule is written once and reads the same wherever it is checked: the CSV import, the
forms and the API share the field validators; the UI, the API and the services share the
table of campaign transitions; the preview and the form share the send-window rule."""

from __future__ import annotations

from datetime import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard.forms import CampaignForm, ClientForm
from dashboard.views.campaign_actions import ACTIONS
from dashboard.views.campaign_form import _preview
from messaging import services
from messaging.models import Campaign, CampaignStatus, Client, MessageStatus
from messaging.models.campaigns import PERSON_ACTIONS, TRANSITIONS
from tests.conftest import force_status, make_campaign
from tests.dashboard.test_campaigns import form_data, messages_for

pytestmark = pytest.mark.django_db

BAD_VALUES = [
    ("operator_code", "12a"),
    ("tag", "x" * 101),
    ("timezone", "Mars/Base"),
]


def _import_errors(api, column: str, value: str) -> list[str]:
    row = {"phone": "79161234567", "operator_code": "", "tag": "", "timezone": "Europe/Moscow"}
    row[column] = value
    body = "phone,operator_code,tag,timezone\n" + ",".join(row.values()) + "\n"
    response = api.post(
        "/api/clients/import/",
        {"file": SimpleUploadedFile("c.csv", body.encode(), content_type="text/csv")},
        format="multipart",
    )
    assert response.status_code == 400, response.json()
    return response.json()["rejected"][0]["errors"][column]


@pytest.mark.parametrize(("column", "value"), BAD_VALUES)
def test_a_bad_client_value_reads_the_same_in_the_import_and_the_api(manager_api, column, value):
    data = {"phone": "79161234567", "timezone": "Europe/Moscow", column: value}
    response = manager_api.post("/api/clients/", data, format="json")
    assert response.status_code == 400
    assert response.json()[column] == _import_errors(manager_api, column, value)


@pytest.mark.parametrize(("column", "value"), BAD_VALUES[:2])
def test_a_bad_client_value_reads_the_same_in_the_form_and_the_import(manager_api, column, value):
    data = {"phone": "79161234567", "operator_code": "", "tag": "", "timezone": "Europe/Moscow"}
    form = ClientForm(data={**data, column: value})
    assert not form.is_valid()
    assert form.errors[column] == _import_errors(manager_api, column, value)


def test_the_import_refuses_a_file_with_a_nul_naming_its_line(manager_api):
    # No text file holds a NUL (PostgreSQL cannot store one): the file is refused whole.
    body = "phone,operator_code,tag,timezone\n79161234567,,a\x00b,Europe/Moscow\n"
    response = manager_api.post(
        "/api/clients/import/",
        {"file": SimpleUploadedFile("c.csv", body.encode(), content_type="text/csv")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "Line 2 has a NUL character" in response.json()["file"][0]
    assert not Client.objects.exists()


def test_a_long_campaign_tag_reads_as_a_long_client_tag(manager_api):
    long_tag = "x" * 101
    response = manager_api.post(
        "/api/campaigns/",
        {
            "text": "Hi",
            "start_at": "2030-01-01T10:00:00Z",
            "end_at": "2030-01-02T10:00:00Z",
            "tags": [long_tag],
        },
        format="json",
    )
    assert response.status_code == 400
    rule = _import_errors(manager_api, "tag", long_tag)[0]
    assert response.json()["tags"] == {"0": [rule]}
    form = CampaignForm(data=form_data(tags=long_tag))
    assert not form.is_valid()
    assert form.errors["tags"] == [f"{long_tag[:20]}…: {rule}"]


# --- Transitions ---------------------------------------------------------------------------


def _campaign_in(status: str) -> Campaign:
    campaign = make_campaign()
    messages_for(campaign, 1, MessageStatus.FAILED)  # so the UI has a reason to offer retry
    force_status(campaign.pk, status)
    campaign.refresh_from_db()
    return campaign


def test_the_ui_and_the_table_name_the_same_actions():
    # The confirmed actions, plus launch (the review page) and edit (the form).
    assert set(ACTIONS) | {"launch", "edit"} == set(PERSON_ACTIONS)


@pytest.mark.parametrize("status", CampaignStatus.values)
def test_the_detail_page_offers_what_the_table_allows(as_manager, status):
    campaign = _campaign_in(status)
    html = as_manager.get(reverse("dashboard:campaign-detail", args=[campaign.pk])).content
    for action in PERSON_ACTIONS:
        offered = f'id="action-{action}"'.encode() in html
        assert offered == (status in TRANSITIONS[action].allowed_from), (action, status)


REFUSED = [
    (action, status)
    for action in PERSON_ACTIONS
    for status in CampaignStatus.values
    if status not in TRANSITIONS[action].allowed_from
]


def _ui_refusal(client, campaign, action: str) -> str:
    if action == "launch":
        url = reverse("dashboard:campaign-review", args=[campaign.pk])
        return client.post(url, {"recipients": "0"}, follow=True).content.decode()
    if action == "edit":
        url = reverse("dashboard:campaign-edit", args=[campaign.pk])
        return client.get(url, follow=True).content.decode()
    return client.get(
        reverse("dashboard:campaign-action", args=[campaign.pk, action])
    ).content.decode()


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_a_refused_action_reads_the_same_in_the_ui_and_the_service(as_manager, action, status):
    campaign = _campaign_in(status)
    refusal = campaign.refusal(action)
    assert refusal in _ui_refusal(as_manager, campaign, action)
    with pytest.raises(services.TransitionRefused) as refused:
        {
            "launch": lambda: services.launch_campaign(campaign=campaign),
            "pause": lambda: services.pause_campaign(campaign=campaign),
            "resume": lambda: services.resume_campaign(campaign=campaign),
            "cancel": lambda: services.cancel_campaign(campaign=campaign),
            "retry": lambda: services.retry_failed_messages(campaign=campaign),
            "edit": lambda: services.update_campaign(campaign=campaign, values={"name": "x"}),
        }[action]()
    assert refused.value.message_dict == {"status": [refusal]}


@pytest.mark.parametrize(("action", "status"), [r for r in REFUSED if r[0] != "retry"])
def test_the_api_refuses_an_action_in_the_tables_words(manager_api, action, status):
    campaign = _campaign_in(status)
    url = f"/api/campaigns/{campaign.pk}/"
    if action == "edit":
        response = manager_api.patch(url, {"name": "x"}, format="json")
    else:
        response = manager_api.post(f"{url}{action}/")
    assert response.status_code == 400
    assert response.json() == {"status": [campaign.refusal(action)]}


def test_retrying_a_cancelled_campaign_is_refused_in_the_tables_words(manager_api):
    campaign = _campaign_in(CampaignStatus.CANCELLED)
    response = manager_api.post(f"/api/campaigns/{campaign.pk}/retry-failed/")
    assert response.status_code == 400
    assert response.json() == {"status": ["A cancelled campaign cannot be retried."]}


# --- Send window ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "window",
    [
        {"send_window_start": "21:00"},
        {"send_window_end": "09:00"},
        {"send_window_start": "21:00", "send_window_end": "21:00"},
    ],
)
def test_the_preview_words_a_bad_send_window_as_the_form_does(window):
    form = CampaignForm(data=form_data(**window))
    assert not form.is_valid()
    field_errors = [
        e for name in ("send_window_start", "send_window_end") for e in form.errors.get(name, [])
    ]
    assert str(_preview(form_data(**window))["window_text"]) in field_errors


def test_the_window_rule_is_the_models():
    campaign = Campaign(send_window_start=time(21), send_window_end=time(21))
    assert list(campaign.send_window_problems()) == ["send_window_end"]
    assert Campaign(send_window_start=time(21)).send_window_problems().keys() == {"send_window_end"}
    assert (
        Campaign(send_window_start=time(21), send_window_end=time(9)).send_window_problems() == {}
    )


# --- The campaign serializer ---------------------------------------------------------------


def test_the_api_checks_a_campaigns_cross_field_rules_once(manager_api, monkeypatch):
    calls = []
    clean = Campaign.clean
    monkeypatch.setattr(Campaign, "clean", lambda self: calls.append(1) or clean(self))
    response = manager_api.post(
        "/api/campaigns/",
        {
            "text": "Hi",
            "start_at": "2030-01-02T10:00:00Z",
            "end_at": "2030-01-01T10:00:00Z",
            "send_window_start": "21:00",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "end_at": ["End must be after start."],
        "send_window_end": ["Give both ends of the send window, or neither."],
    }
    assert len(calls) == 1
