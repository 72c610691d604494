"""The clients pages: table, filters, forms, delete, CSV import and export, detail."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from messaging.models import Client, Message, MessageStatus
from messaging.models.counters import add_pending
from tests.conftest import make_campaign, make_client

pytestmark = pytest.mark.django_db


def test_client_table_filters_by_tag_and_phone_search(as_viewer):
    make_client("79161234567", tag="vip")
    make_client("79251234567", tag="regular")
    html = as_viewer.get(reverse("dashboard:client-list"), {"tag": "vip"}).content.decode()
    assert "+7 (916) 123-45-67" in html
    assert "+7 (925) 123-45-67" not in html
    html = as_viewer.get(reverse("dashboard:client-list"), {"search": "7925"}).content.decode()
    assert "+7 (925) 123-45-67" in html
    assert "+7 (916) 123-45-67" not in html


def test_client_table_answers_htmx_with_the_table_partial_only(as_viewer):
    make_client("79161234567", tag="vip")
    url = reverse("dashboard:client-list")
    page = as_viewer.get(url)
    partial = as_viewer.get(url, {"sort": "-phone"}, HTTP_HX_REQUEST="true")
    assert "<nav" in page.content.decode()
    body = partial.content.decode()
    assert "<nav" not in body and "<html" not in body
    assert "+7 (916) 123-45-67" in body
    assert "HX-Request" in partial["Vary"]
    # A history restore needs the whole page back.
    restored = as_viewer.get(url, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restored.content.decode()


def test_client_table_paginates(as_viewer, settings):
    settings.UI_PAGE_SIZE = 5
    for i in range(12):
        make_client(f"7916000000{i:01d}" if i < 10 else f"791600000{i}")
    html = as_viewer.get(reverse("dashboard:client-list"), {"page": 3}).content.decode()
    assert "12 clients" in html
    assert html.count('href="/clients/') - html.count('href="/clients/new') >= 2


def test_time_zone_filter_offers_the_zones_clients_have(as_viewer):
    make_client("79161234567", tz="Asia/Vladivostok")
    make_client("79251234567", tz="Europe/Moscow")
    html = as_viewer.get(
        reverse("dashboard:client-list"), {"timezone": "Asia/Vladivostok"}
    ).content.decode()
    assert '<option value="Asia/Vladivostok" selected>' in html
    assert "+7 (916) 123-45-67" in html and "+7 (925) 123-45-67" not in html


def test_creating_a_client_by_form_defaults_the_operator_code(as_manager):
    response = as_manager.post(
        reverse("dashboard:client-create"),
        {"phone": "79161234567", "operator_code": "", "tag": "vip", "timezone": "Asia/Tokyo"},
    )
    client = Client.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:client-detail", args=[client.pk])
    assert (client.operator_code, client.tag, client.timezone) == ("916", "vip", "Asia/Tokyo")


def test_bad_client_input_shows_field_errors_and_saves_nothing(as_manager):
    response = as_manager.post(
        reverse("dashboard:client-create"),
        {"phone": "8916", "operator_code": "12", "tag": "", "timezone": "Mars/Olympus"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Phone must be 11 digits starting with 7" in html
    assert "Operator code must be exactly 3 digits" in html
    assert "Mars/Olympus is not a time zone Herald knows" in html
    assert Client.objects.count() == 0


def test_duplicate_phone_is_a_field_error(as_manager):
    make_client("79161234567")
    response = as_manager.post(
        reverse("dashboard:client-create"),
        {"phone": "79161234567", "timezone": "Europe/Moscow"},
    )
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert Client.objects.count() == 1


def test_editing_a_client(as_manager):
    client = make_client("79161234567", tag="old")
    as_manager.post(
        reverse("dashboard:client-edit", args=[client.pk]),
        {"phone": "79161234567", "operator_code": "916", "tag": "new", "timezone": "UTC"},
    )
    client.refresh_from_db()
    assert (client.tag, client.timezone) == ("new", "UTC")


def test_deleting_a_client_asks_first_then_cancels_its_unsent_messages(as_manager):
    client = make_client("79161234567")
    campaign = make_campaign()
    Message.objects.create(campaign=campaign, client=client, phone=client.phone)
    add_pending(campaign.pk, 1)
    url = reverse("dashboard:client-delete", args=[client.pk])
    confirm = as_manager.get(url)
    assert "1 unsent message to this client will be cancelled" in confirm.content.decode()
    assert Client.objects.filter(pk=client.pk).exists()
    response = as_manager.post(url)
    assert response["Location"] == reverse("dashboard:client-list")
    assert not Client.objects.filter(pk=client.pk).exists()
    message = Message.objects.get()
    assert message.status == MessageStatus.CANCELLED
    assert message.phone == "79161234567"


def upload(text: str, name: str = "clients.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_csv_import_reports_created_updated_and_rejected_rows(as_manager):
    make_client("79161234567", tag="old")
    data = (
        "phone,operator_code,tag,timezone\n"
        "79161234567,,vip,Europe/Moscow\n"
        "79251234567,925,new,Asia/Tokyo\n"
        "123,,bad,Nowhere/City\n"
    )
    response = as_manager.post(
        reverse("dashboard:client-import"), {"file": upload(data), "skip_invalid_rows": "on"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-result="created">1<' in html
    assert 'data-result="updated">1<' in html
    assert 'data-result="rejected">1<' in html
    assert "Phone must be 11 digits" in html and "is not a time zone Herald knows" in html
    assert Client.objects.get(phone="79161234567").tag == "vip"
    assert Client.objects.filter(phone="79251234567").exists()


def test_csv_import_with_an_invalid_row_saves_nothing_unless_asked(as_manager):
    data = "phone,operator_code,tag,timezone\n79251234567,,x,UTC\n7925,,x,UTC\n"
    response = as_manager.post(reverse("dashboard:client-import"), {"file": upload(data)})
    assert response.status_code == 400
    assert "Nothing was imported" in response.content.decode()
    assert Client.objects.count() == 0


def test_malformed_csv_is_a_file_error(as_manager):
    response = as_manager.post(
        reverse("dashboard:client-import"),
        {"file": upload('phone,tag\n"79161234567,vip\n')},
    )
    assert response.status_code == 400
    assert "Line 2" in response.content.decode()
    assert Client.objects.count() == 0


def test_csv_export_follows_the_current_filter_and_reimports(as_viewer):
    make_client("79161234567", tag="vip", tz="Asia/Tokyo")
    make_client("79251234567", tag="regular")
    response = as_viewer.get(reverse("dashboard:client-export"), {"tag": "vip"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["phone", "operator_code", "tag", "timezone", "name", "consent", "consent_source"],
        ["79161234567", "916", "vip", "Asia/Tokyo", "", "", ""],
    ]


def test_csv_export_never_hands_a_spreadsheet_a_formula_and_reimports_unchanged(as_viewer):
    from messaging import services

    formula = '=HYPERLINK("http://evil.example","click")'
    make_client("79161234567", tag=formula)
    make_client("79251234567", tag="-5% off")
    response = as_viewer.get(reverse("dashboard:client-export"))
    exported = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(exported.decode())))
    assert [row[2] for row in rows[1:]] == ["'" + formula, "'-5% off"]

    Client.objects.update(tag="changed")
    result = services.import_clients_csv(data=exported)
    assert (result.created, result.updated, result.rejected) == (0, 2, [])
    assert sorted(Client.objects.values_list("tag", flat=True)) == ["-5% off", formula]


def test_export_link_carries_the_filter(as_viewer):
    html = as_viewer.get(reverse("dashboard:client-list"), {"tag": "vip"}).content.decode()
    assert reverse("dashboard:client-export") + "?tag=vip" in html


def test_client_detail_lists_its_messages_across_campaigns(as_viewer):
    client = make_client("79161234567")
    first = make_campaign(name="First")
    second = make_campaign(name="Second")
    for campaign in (first, second):
        Message.objects.create(campaign=campaign, client=client, phone=client.phone)
    html = as_viewer.get(reverse("dashboard:client-detail", args=[client.pk])).content.decode()
    assert "First" in html and "Second" in html
    assert html.count("/messages/") >= 2


def test_user_text_is_escaped(as_viewer):
    make_client("79161234567", tag="<script>alert(1)</script>")
    html = as_viewer.get(reverse("dashboard:client-list")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


MODAL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "client-modal-content"}


def test_the_modal_form_is_a_fragment_and_keeps_errors_in_the_modal(as_manager):
    url = reverse("dashboard:client-create")
    form = as_manager.get(url, **MODAL).content.decode()
    assert "<html" not in form and 'hx-post="/clients/new/"' in form
    response = as_manager.post(url, {"phone": "123", "timezone": "UTC"}, **MODAL)
    assert response.status_code == 200  # htmx swaps 2xx only
    assert "Phone must be 11 digits" in response.content.decode()
    assert Client.objects.count() == 0


def test_saving_in_the_modal_triggers_clientsaved_to_close_it_and_refresh_the_table(as_manager):
    response = as_manager.post(
        reverse("dashboard:client-create"), {"phone": "79161234567", "timezone": "UTC"}, **MODAL
    )
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"]) == {"clientSaved": "Client +7 (916) 123-45-67 saved."}
    assert Client.objects.filter(phone="79161234567").exists()


def test_filter_fields_have_ids_apart_from_the_client_form(as_manager):
    html = as_manager.get(reverse("dashboard:client-list")).content.decode()
    assert 'id="filter-tag"' in html and 'id="id_tag"' not in html


def test_empty_states_tell_an_empty_directory_from_an_empty_filter(as_viewer):
    url = reverse("dashboard:client-list")
    assert "No clients yet." in as_viewer.get(url).content.decode()
    make_client("79161234567", tag="vip")
    assert "No client matches this filter." in as_viewer.get(url, {"tag": "x"}).content.decode()


def test_import_page_offers_a_sample_csv_that_imports(as_manager):
    page = as_manager.get(reverse("dashboard:client-import")).content.decode()
    sample_url = reverse("dashboard:client-import-sample")
    assert sample_url in page
    sample = as_manager.get(sample_url)
    assert sample["Content-Type"].startswith("text/csv")
    response = as_manager.post(
        reverse("dashboard:client-import"), {"file": upload(sample.content.decode())}
    )
    assert response.status_code == 200
    assert 'data-result="created">3<' in response.content.decode()


def test_after_an_import_the_rejected_rows_download_as_csv_for_that_user_only(
    as_manager, client, viewer
):
    data = "phone,operator_code,tag,timezone\n79251234567,,x,UTC\n7925,,x,UTC\n12,,y,Mars/Base\n"
    response = as_manager.post(
        reverse("dashboard:client-import"), {"file": upload(data), "skip_invalid_rows": "on"}
    )
    html = response.content.decode()
    assert "Download the 2 rejected rows:" in html
    from messaging.models import RejectedRows

    kept = RejectedRows.objects.get()
    url = reverse("dashboard:client-import-rejected", args=[kept.pk])
    assert url in html
    download = as_manager.get(url)
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [row[0] for row in rows] == ["phone", "7925", "12"]
    # No "phone:" / "timezone:" keys: each message says what it is about.
    assert "phone: " not in rows[2][-1] and "timezone: " not in rows[2][-1]
    assert "; " in rows[2][-1]  # both reasons, the phone's and the time zone's

    from tests.conftest import make_user

    other = make_user("other-manager", "Managers")
    client.force_login(other)
    assert client.get(url).status_code == 404
