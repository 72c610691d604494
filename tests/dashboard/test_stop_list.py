"""The stop list page: marketers paste or upload the phones that said stop, and see them.

Adding cancels what was still waiting for those phones; taking a phone off needs its own
confirmation; Viewers read the list and change nothing.
"""

from __future__ import annotations

import codecs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from messaging import services
from messaging.models import Client, Message, MessageStatus, StopListEntry, Via
from tests.conftest import make_client
from tests.engine.conftest import running_campaign

pytestmark = pytest.mark.django_db

LIST = reverse("dashboard:client-stop-list")
ADD = reverse("dashboard:client-stop-list-add")
IMPORT = reverse("dashboard:client-stop-list-import")


def listed() -> dict[str, tuple[str, str]]:
    return {e.phone: (e.via, e.reason) for e in StopListEntry.objects.all()}


def test_pasted_phones_go_on_the_list_and_their_waiting_messages_are_cancelled(as_manager):
    make_client("79160000001")
    make_client("79160000002")
    campaign = running_campaign()
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.PENDING).count() == 2

    pasted = "8 916 000 00 01\n+7 (926) 000-00-02; 79160000002\r\n\n"
    form = {"add-phones": pasted, "add-reason": "ответил СТОП"}
    response = as_manager.post(ADD, form, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Added to the stop list: 3; already there: 0." in html
    assert "2 pending messages were cancelled." in html
    assert listed() == {
        "79160000001": (Via.HAND, "ответил СТОП"),
        "79260000002": (Via.HAND, "ответил СТОП"),
        "79160000002": (Via.HAND, "ответил СТОП"),
    }
    assert not Message.objects.filter(status=MessageStatus.PENDING).exists()
    # The list shows them as people read phones, with how and why.
    assert "+7 (926) 000-00-02" in html and "ответил СТОП" in html


def test_a_pasted_line_that_is_not_a_phone_refuses_all_and_names_it(as_manager):
    response = as_manager.post(ADD, {"add-phones": "79160000001\n12345", "add-reason": ""})
    assert response.status_code == 400
    assert "12345" in response.content.decode()
    assert not StopListEntry.objects.exists()


def test_a_file_from_excel_in_russian_is_imported_and_bad_rows_listed(as_manager):
    rows = "Телефон;Причина\r\n+7 916 000-00-01;СТОП\r\nне телефон;\r\n79160000002;\r\n"
    data = rows.encode("cp1251")
    upload = SimpleUploadedFile("stop.csv", data, content_type="text/csv")
    form = {"import-file": upload, "import-reason": "ответы СТОП за май"}
    response = as_manager.post(IMPORT, form)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Added to the stop list: 2; already there: 0; rows not read as a phone: 1." in html
    assert "не телефон" in html  # the rejected row, shown
    assert listed() == {
        "79160000001": (Via.IMPORT, "ответы СТОП за май"),
        "79160000002": (Via.IMPORT, "ответы СТОП за май"),
    }


def test_a_file_that_cannot_be_read_is_a_form_error(as_manager):
    upload = SimpleUploadedFile("stop.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    response = as_manager.post(IMPORT, {"import-file": upload})
    assert response.status_code == 400
    assert 'id="stop-list-import"' in response.content.decode()
    assert not StopListEntry.objects.exists()


def test_taking_a_phone_off_asks_first_and_leaves_a_clients_opt_out(as_manager):
    client = make_client("79160000001")
    services.opt_out(client=client, via=Via.HAND, reason="жалоба")
    remove = reverse("dashboard:client-stop-list-remove", args=["79160000001"])
    page = as_manager.get(remove).content.decode()
    assert "Take +7 (916) 000-00-01 off the stop list?" in page
    assert "stays opted out" in page
    assert StopListEntry.objects.exists()  # asking changes nothing

    response = as_manager.post(remove, follow=True)
    assert "+7 (916) 000-00-01 is off the stop list." in response.content.decode()
    assert not StopListEntry.objects.exists()
    assert Client.objects.get(pk=client.pk).opted_out_at is not None
    assert as_manager.post(remove).status_code == 404  # gone already


def test_the_list_is_searched_by_digits_and_paged(as_manager, settings):
    settings.UI_PAGE_SIZE = 2
    services.add_to_stop_list(
        phones=["79160000001", "79260000002", "79030000003"], via=Via.API, reason=""
    )
    found = as_manager.get(LIST, {"q": "926 00"}).content.decode()
    assert "+7 (926) 000-00-02" in found and "+7 (916) 000-00-01" not in found
    short = as_manager.get(LIST, {"q": "92"}).content.decode()
    assert "Type at least 4 digits of the phone." in short
    first = as_manager.get(LIST).content.decode()
    assert "3 phones on the stop list" in first and "Page 1 of 2" in first


def test_viewers_read_the_list_without_any_control_and_cannot_post(as_viewer):
    services.add_to_stop_list(phones=["79160000001"], via=Via.API, reason="<b>stop</b>")
    html = as_viewer.get(LIST).content.decode()
    assert "+7 (916) 000-00-01" in html
    assert "&lt;b&gt;stop&lt;/b&gt;" in html  # a reason is text, never markup
    for control in ('id="stop-list-add"', 'id="stop-list-import"', "/remove/"):
        assert control not in html
    assert as_viewer.post(ADD, {"add-phones": "79160000002"}).status_code == 403
    assert list(listed()) == ["79160000001"]


def test_the_export_opens_in_russian_excel_and_imports_back(as_manager):
    services.add_to_stop_list(phones=["79160000001", "79260000002"], via=Via.API, reason="")
    response = as_manager.get(reverse("dashboard:client-stop-list-export"))
    data = b"".join(response.streaming_content)
    assert data.startswith(codecs.BOM_UTF8) and b";" in data.splitlines()[0]
    StopListEntry.objects.all().delete()
    upload = SimpleUploadedFile("stop-list.csv", data, content_type="text/csv")
    as_manager.post(IMPORT, {"import-file": upload})
    assert set(listed()) == {"79160000001", "79260000002"}
    xlsx = as_manager.get(reverse("dashboard:client-stop-list-export-xlsx"))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(xlsx.streaming_content)[:2] == b"PK"


def test_the_page_reads_in_russian(as_manager):
    services.add_to_stop_list(phones=["79160000001"], via=Via.HAND, reason="")
    with translation.override("ru"):
        html = as_manager.get(LIST, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Стоп-лист" in html and "1 номер в стоп-листе" in html
    assert "вручную" in html  # how it was added, in Russian
