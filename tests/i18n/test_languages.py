"""Russian and English: every page in both, the language choice, API errors, the catalogue."""

from __future__ import annotations

import gettext
import shutil
import subprocess
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polib
import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from dashboard.models import UserPreference
from messaging import services
from messaging.models import (
    AttemptOutcome,
    Campaign,
    CampaignStatus,
    Client,
    DeliveryAttempt,
    Message,
    MessageStatus,
    PendingImport,
    ProviderState,
    Via,
)
from messaging.models.counters import add_pending, move_messages, record_sends
from security.roles import MANAGERS, VIEWERS
from tests.conftest import (
    create_token,
    force_status,
    make_campaign,
    make_client,
    make_user,
    token_client,
)
from tests.dashboard.test_access import all_routes, concrete
from tests.support.i18n_pages import CYRILLIC, english_words, leftovers, readable_text
from tests.support.smtp import body

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale"
PO = LOCALE / "ru" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "ru" / "LC_MESSAGES" / "django.mo"

# People-facing pages not ours to translate: Django's admin (Django's own
# catalogue) and Swagger UI (a third-party page that documents English field names).
NOT_OUR_PAGES = ("admin:", "swagger-ui", "schema")
# Routes that answer a file, not a page.
DOWNLOADS = {
    "dashboard:client-stop-list-export",
    "dashboard:client-stop-list-export-xlsx",
    "dashboard:client-import-rejected",
    "dashboard:client-import-rejected-excel",
    "dashboard:client-import-rejected-xlsx",
    "dashboard:client-import-sample",
}
# A Russian Excel file whose columns need matching (the matching step's page).
UNMATCHED = "Мобила;Город;Тег\r\n79161112233;Казань;вип\r\n".encode("cp1251")
# Data typed by people, in Russian as a Russian team would type it.
USERNAME = "менеджер"
DATA = {USERNAME, "Mars"}  # "Mars": a time zone typed wrong in the CSV, shown back


def _messages(campaign: Campaign, phones: list[str], status: str) -> list[Message]:
    clients = [make_client(phone, tag="вип") for phone in phones]
    Message.objects.bulk_create(
        Message(campaign=campaign, client=c, phone=c.phone) for c in clients
    )
    add_pending(campaign.pk, len(clients))
    queryset = campaign.messages.filter(phone__in=phones)
    if status != MessageStatus.PENDING:
        move_messages(queryset, [MessageStatus.PENDING], status, sent_at=timezone.now())
    return list(queryset)


@pytest.fixture
def russian_team(client):
    objects = seed_russian_team()
    client.force_login(objects["manager"])
    # The review shows the estimated cost only with a price set.
    with override_settings(SMS_PART_PRICE=Decimal("2.35")):
        yield objects


def seed_russian_team() -> dict:
    """A Manager with a Russian name and campaigns in every state, with messages and attempts."""
    manager = make_user(USERNAME, MANAGERS)
    running = make_campaign(
        name="Весенняя распродажа",
        text="Скидки до 30% только сегодня!",
        start_in=timedelta(hours=-1),
        operator_codes=["916"],
        tags=["вип"],
        send_window_start=time(21, 0),
        send_window_end=time(9, 0),
    )
    force_status(running.pk, CampaignStatus.RUNNING, targets_selected_at=timezone.now())
    _messages(running, ["79160000001", "79160000002"], MessageStatus.SENT)
    failed = _messages(running, ["79160000003"], MessageStatus.FAILED)[0]
    _messages(running, ["79160000004", "79160000005"], MessageStatus.PENDING)
    DeliveryAttempt.objects.create(
        message=failed,
        started_at=timezone.now(),
        duration_ms=120,
        http_status=400,
        outcome=AttemptOutcome.REJECTED,
        response_excerpt='{"code": 1}',
    )
    record_sends(running.pk, sent=1234, failed=5)
    Client.objects.bulk_create(
        Client(phone=f"7903{i:07d}", operator_code="903", tag="обычный", timezone="Asia/Omsk")
        for i in range(settings.UI_PAGE_SIZE)
    )  # a second page of clients
    make_campaign(name="Осенняя акция", text="Привет!")
    pending = PendingImport.keep(
        user=manager, file_name="клиенты.csv", content=UNMATCHED, skip_invalid_rows=False
    )
    for status, name in (
        (CampaignStatus.PAUSED, "Летняя"),
        (CampaignStatus.FINISHED, "Зимняя"),
        (CampaignStatus.CANCELLED, "Новогодняя"),
    ):
        other = make_campaign(name=name, text="Текст")
        force_status(other.pk, status)
    make_campaign(text="Без названия")  # shown by its number
    # A draft to review: a window that never opens before a short end, a long text, a start
    # already past (every warning of the review).
    draft = services.create_campaign(
        values={
            "name": "Черновик",
            "text": "Длинный текст. " * 6,
            "start_at": timezone.now() - timedelta(minutes=5),
            "end_at": timezone.now() + timedelta(minutes=3),
            "send_window_start": (timezone.localtime() + timedelta(hours=3)).time(),
            "send_window_end": (timezone.localtime() + timedelta(hours=4)).time(),
        },
        user=manager,
        draft=True,
    )
    # A launched one: the launch is on the audit page.
    later = timezone.now() + timedelta(days=1)
    services.launch_campaign(
        campaign=services.create_campaign(
            values={
                "name": "Запущенная",
                "text": "Текст",
                "start_at": later,
                "end_at": later + timedelta(hours=1),
            },
            draft=True,
        ),
        user=manager,
    )
    ProviderState.objects.update_or_create(
        pk=1, defaults={"credentials_rejected": True, "latency_ms": 180.0, "error_rate": 0.25}
    )
    services.add_to_stop_list(phones=["79035550199"], via=Via.HAND, reason="ответил СТОП")
    return {
        "stop_listed": "79035550199",
        "campaign": running,
        "draft": draft,
        "message": failed,
        "client": failed.client,
        "manager": manager,
        "pending": pending,
    }


def _pages(objects: dict) -> list[tuple[str, str]]:
    """Every GET page of the UI (the URL list, as tests/dashboard/test_access.py walks it)."""
    pages = []
    for name, route in all_routes():
        if name.startswith(NOT_OUR_PAGES) or not name.startswith("dashboard:"):
            continue
        pk = objects["campaign"].pk
        if name.startswith("dashboard:client"):
            pk = objects["client"].pk
        elif name.startswith("dashboard:message"):
            pk = objects["message"].pk
        if name == "dashboard:campaign-review":
            pk = objects["draft"].pk
        path = concrete(route, pk)
        if name == "dashboard:client-import-match":
            path = reverse(name, args=[objects["pending"].pk])
        if name == "dashboard:client-stop-list-remove":
            path = reverse(name, args=[objects["stop_listed"]])
        if name == "dashboard:campaign-action":
            pages += [
                (f"{name}:{action}", reverse(name, args=[objects["campaign"].pk, action]))
                for action in ("pause", "resume", "cancel", "retry", "delete")
            ]
            continue
        pages.append((name, path))
    return pages


def _form_errors(client) -> list[tuple[str, str]]:
    """Pages with field errors, as a person who typed it wrong sees them."""
    bad_campaign = client.post(
        reverse("dashboard:campaign-create"),
        {"text": "", "start_at": "завтра", "end_at": "", "operator_codes": "91", "tags": ""},
    )
    bad_client = client.post(
        reverse("dashboard:client-create"), {"phone": "123", "timezone": "Марс/База"}
    )
    assert bad_campaign.status_code == bad_client.status_code == 400
    return [("campaign form errors", bad_campaign), ("client form errors", bad_client)]


def _render_all(client, objects, language: str) -> list[tuple[str, str]]:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    rendered = []
    for name, path in _pages(objects):
        response = client.get(path)
        if response.status_code == 405:
            continue  # POST only (sign out, token, time zone): their pages are covered
        if name in DOWNLOADS:
            continue  # files (the CSV of an import's rejected rows), not pages
        assert response.status_code in (200, 286), (name, path, response.status_code)
        if not response["Content-Type"].startswith("text/html"):
            continue  # the CSV export: data in the import format
        rendered.append((name, response.content.decode()))
    for name, response in _form_errors(client):
        rendered.append((name, response.content.decode()))
    for name, response in _other_states(client, objects):
        assert response.status_code in (200, 400, 403, 404), (name, response.status_code)
        rendered.append((name, response.content.decode()))
    client.logout()  # forgets the cookies too
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    rendered.append(("login", client.get(reverse("login")).content.decode()))
    failed_login = client.post(reverse("login"), {"username": "никто", "password": "нет"})
    rendered.append(("login refused", failed_login.content.decode()))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked = client.post(reverse("login"), {"username": "никто", "password": "нет"})
    assert locked.status_code == 429
    rendered.append(("locked out", locked.content.decode()))
    # The audit page, with sign-ins, failures and the lockout recorded above.
    client.force_login(objects["manager"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    rendered.append(("audit", client.get(reverse("dashboard:audit")).content.decode()))
    return rendered


def _other_states(client, objects) -> list[tuple[str, object]]:
    """Pages in the states a walk of the URLs does not reach."""
    states = []
    for campaign in Campaign.objects.exclude(pk=objects["campaign"].pk):
        detail = reverse("dashboard:campaign-detail", args=[campaign.pk])
        states.append((f"campaign {campaign.status}", client.get(detail)))
        resume = reverse("dashboard:campaign-action", args=[campaign.pk, "resume"])
        states.append((f"resume {campaign.status}", client.get(resume)))
    running = objects["campaign"].pk
    states.append(
        (
            "messages filtered",
            client.get(reverse("dashboard:campaign-detail", args=[running]), {"status": "failed"}),
        )
    )
    pending = Message.objects.filter(status=MessageStatus.PENDING).first()
    states.append(
        (
            "delete a client with unsent messages",
            client.get(reverse("dashboard:client-delete", args=[pending.client_id])),
        )
    )
    states.append(
        ("client list, page 2", client.get(reverse("dashboard:client-list"), {"page": 2}))
    )
    csv = b"phone,operator_code,tag,timezone\n79161112233,,\xd0\xb2,Europe/Moscow\n123,9,x,Mars\n"
    for skip in ("", "on"):
        states.append(
            (
                f"import with rejected rows {skip}",
                client.post(
                    reverse("dashboard:client-import"),
                    {"file": _upload(csv), "skip_invalid_rows": skip},
                ),
            )
        )
    states.append(
        (
            "import, not UTF-8",
            client.post(reverse("dashboard:client-import"), {"file": _upload(b"\xff\xfe\x00\xd8")}),
        )
    )
    repeats = "Телефон;Тег\r\n79161112233;а\r\n79161112233;б\r\n".encode("cp1251")
    states.append(
        (
            "import with repeats",
            client.post(reverse("dashboard:client-import"), {"file": _upload(repeats)}),
        )
    )
    match = reverse("dashboard:client-import-match", args=[objects["pending"].pk])
    states.append(("matching, no phone", client.post(match, {"column_0": "", "column_2": "tag"})))
    states.append(
        (
            "matching, a bad field name",
            client.post(match, {"column_0": "phone", "column_1": "field", "field_1": "1поле"}),
        )
    )
    states.append(
        (
            "matching, rows refused",
            client.post(
                match, {"column_0": "phone", "column_1": "operator_code", "column_2": "tag"}
            ),
        )
    )
    states.append(("new API token", create_token(client)))
    test_send = reverse("dashboard:campaign-test-send") + f"?campaign={running}"
    # Nothing listens at the provider's address here: the outcome is "could not reach".
    with override_settings(PROVIDER_URL="http://127.0.0.1:9/v1"):
        states.append(
            ("test send", client.post(test_send, {"text": "Привет", "test_phone": "79161234567"}))
        )
    states.append(("test send refused", client.post(test_send, {"text": "", "test_phone": "1"})))
    # A flash message on the next page, and the error pages.
    client.post(reverse("dashboard:campaign-action", args=[running, "pause"]))
    states.append(("after pause", client.get(reverse("dashboard:home"))))
    states.append(("404", client.get("/no-such-page/")))
    viewer = make_user("наблюдатель", VIEWERS)
    client.force_login(viewer)
    states.append(("403", client.get(reverse("dashboard:campaign-create"))))
    return states


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("клиенты.csv", content, content_type="text/csv")


def test_every_page_in_russian_has_no_english_left(client, russian_team):
    pages = _render_all(client, russian_team, "ru")
    assert len(pages) > 25
    problems = {}
    for name, html in pages:
        assert '<html lang="ru"' in html or "<html" not in html, name
        words = english_words(readable_text(html, "ru"), data=DATA)
        if words or leftovers(html):
            problems[name] = sorted(set(words)) + leftovers(html)
    assert not problems, problems


def test_every_page_in_english_shows_no_placeholders_or_russian_but_data(client, russian_team):
    data_words = {
        "Весенняя распродажа",
        "Скидки до 30% только сегодня!",
        "ответил СТОП",
        "Осенняя акция",
        "Привет!",
        "Без названия",
        "Текст",
        "Летняя",
        "Зимняя",
        "Новогодняя",
        "Черновик",
        "Длинный текст.",
        "Запущенная",
        "вип",
        "обычный",
        "клиенты.csv",
        "Мобила",
        "Тег",
        "Город",
        "Казань",
        "1поле",
        "наблюдатель",
        "никто",
        "завтра",
        "Марс/База",
        USERNAME,
    }
    for name, html in _render_all(client, russian_team, "en"):
        assert '<html lang="en"' in html or "<html" not in html, name
        assert not leftovers(html), (name, leftovers(html))
        text = readable_text(html, "en")
        for data in sorted(data_words, key=len, reverse=True):
            text = text.replace(data, "")
        # The composer names the characters of the text that force UCS-2: data too.
        words = [w for w in text.split() if CYRILLIC.search(w) and len(w) > 1]
        assert not words, (name, words)


# --- Choosing the language -------------------------------------------------------------


def test_the_browsers_accept_language_picks_the_language(client):
    ru = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9,en;q=0.8")
    assert "Вход в Herald" in ru.content.decode()
    assert ru["Content-Language"] == "ru"
    en = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert "Sign in to Herald" in en.content.decode()
    # A language Herald does not have falls back to English.
    assert (
        "Sign in to Herald"
        in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    )


def test_the_switcher_stores_the_choice_on_the_user_and_it_wins_over_the_browser(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("set-language"), {"language": "ru", "next": "/clients/"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302 and response["Location"] == "/clients/"
    assert UserPreference.language_of(manager) == "ru"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    page = client.get("/clients/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Интерфейс теперь на русском языке." in page
    assert '<h1 class="h3 mb-0">Клиенты</h1>' in page


def test_the_stored_language_follows_the_user_to_a_new_browser(client, manager):
    UserPreference.remember_language(manager, "ru")
    # A fresh browser: no cookie, an English Accept-Language; sign in with the password form.
    response = client.post(
        reverse("login"),
        {"username": "manager", "password": "pw-manager"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<h1 class="h3 mb-0">Сводка</h1>' in home.content.decode()
    # The cookie is set too, so the sign-in page after signing out stays Russian.
    assert home.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    client.post(reverse("logout"))
    assert "Вход в Herald" in client.get(reverse("login")).content.decode()


def test_a_choice_made_before_signing_in_is_kept_for_the_user(client, manager):
    client.post(reverse("set-language"), {"language": "ru", "next": "/accounts/login/"})
    assert (
        "Вход в Herald" in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    client.post(reverse("login"), {"username": "manager", "password": "pw-manager"})
    assert UserPreference.language_of(manager) == "ru"


def test_switching_back_to_english(client, manager):
    UserPreference.remember_language(manager, "ru")
    client.force_login(manager)
    client.post(reverse("set-language"), {"language": "en", "next": "/"})
    assert UserPreference.language_of(manager) == "en"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "The interface is now in English." in page
    assert '<h1 class="h3 mb-0">Dashboard</h1>' in page


def test_a_bad_language_or_next_changes_nothing(client, manager):
    client.force_login(manager)
    response = client.post(reverse("set-language"), {"language": "xx", "next": "/clients/"})
    assert response.status_code == 302
    assert not UserPreference.objects.filter(user=manager).exists()
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    away = client.post(reverse("set-language"), {"language": "ru", "next": "https://evil.example/"})
    assert away["Location"] == "/"
    assert client.get(reverse("set-language")).status_code == 405


def test_the_switcher_is_on_every_page_and_marks_the_current_language(client, manager):
    client.force_login(manager)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert f'action="{reverse("set-language")}"' in html
    assert 'value="ru" lang="ru" class="btn btn-sm btn-light" aria-pressed="true">Русский<' in html
    login = APIClient().get(reverse("login")).content.decode()
    assert f'action="{reverse("set-language")}"' in login


# --- Numbers and dates -------------------------------------------------------------------


def test_numbers_and_dates_are_written_the_languages_way(client, manager):
    Client.objects.bulk_create(
        Client(phone=f"7916{i:07d}", operator_code="916", timezone="Europe/Moscow")
        for i in range(1234)
    )
    campaign = make_campaign(name="Дата")
    Campaign.objects.filter(pk=campaign.pk).update(
        start_at=datetime(2030, 3, 1, 10, 0, tzinfo=UTC),
        end_at=datetime(2030, 3, 2, 10, 0, tzinfo=UTC),
    )
    client.force_login(manager)
    ru = client.get("/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'data-figure="clients">1\xa0234<' in ru
    en = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-figure="clients">1,234<' in en
    detail = reverse("dashboard:campaign-detail", args=[campaign.pk])
    assert "01.03.2030 10:00" in client.get(detail, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "2030-03-01 10:00" in client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_plural_forms_follow_russian_grammar(client, manager):
    client.force_login(manager)
    for n, word in (
        (1, "клиент"),
        (3, "клиента"),
        (5, "клиентов"),
        (11, "клиентов"),
        (21, "клиент"),
    ):
        Client.objects.all().delete()
        Client.objects.bulk_create(
            Client(phone=f"7925{i:07d}", operator_code="925", timezone="UTC") for i in range(n)
        )
        html = client.get(reverse("dashboard:client-list"), HTTP_ACCEPT_LANGUAGE="ru")
        assert f"{n} {word} · время в поясе UTC" in html.content.decode(), n


# --- The API: English field names, errors in the request's language ---------------------


def test_api_errors_follow_accept_language_and_field_names_stay_english(manager):
    api = token_client(manager)
    bad = {"phone": "123", "timezone": "Europe/Moscow"}
    ru = api.post("/api/clients/", bad, format="json", HTTP_ACCEPT_LANGUAGE="ru")
    assert ru.status_code == 400
    assert ru.json() == {"phone": ["Телефон — 11 цифр, начиная с 7 (7XXXXXXXXXX)."]}
    en = api.post("/api/clients/", bad, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert en.json() == {"phone": ["Phone must be 11 digits starting with 7 (7XXXXXXXXXX)."]}
    # DRF's own messages too.
    missing = api.post("/api/clients/", {}, format="json", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert missing["phone"] == ["Обязательное поле."]
    anonymous = APIClient().get("/api/clients/", HTTP_ACCEPT_LANGUAGE="ru")
    assert anonymous.status_code == 401
    assert CYRILLIC.search(anonymous.json()["detail"])
    assert APIClient().get("/api/clients/", HTTP_ACCEPT_LANGUAGE="en").json() == {
        "detail": "Authentication credentials were not provided."
    }
    assert APIClient().get("/api/nothing/", HTTP_ACCEPT_LANGUAGE="ru").json() == {
        "detail": "Не найдено."
    }


def test_api_errors_of_our_own_rules_are_translated(manager, viewer):
    campaign = make_campaign()
    body = {
        "text": "Привет",
        "start_at": "2030-03-02T10:00:00+03:00",
        "end_at": "2030-03-01T10:00:00+03:00",
    }
    response = token_client(manager).post(
        "/api/campaigns/", body, format="json", HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert response.json()["end_at"] == ["Окончание должно быть позже начала."]
    refused = token_client(viewer).post(
        f"/api/campaigns/{campaign.pk}/pause/", HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Только для менеджеров: ваша роль позволяет читать данные, но не изменять их."
    )


def test_the_stored_ui_language_does_not_change_the_apis_language(client, manager):
    UserPreference.remember_language(manager, "ru")
    client.force_login(manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"  # the browser's UI choice
    response = client.post(
        "/api/clients/", {"phone": "1"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json()["phone"] == ["Phone must be 11 digits starting with 7 (7XXXXXXXXXX)."]


# --- The daily report email ----------------------------------------------------------------


def test_the_emailed_report_is_in_report_language(smtp_inbox):
    from messaging.reporting import reports

    campaign = make_campaign(name="Весна", start_in=timedelta(hours=-1))
    _messages(campaign, ["79160000010"], MessageStatus.SENT)
    _messages(campaign, ["79160000011"], MessageStatus.FAILED)
    # override_settings nested inside smtp_inbox's own override (the `settings` fixture
    # would be undone after it and leave the SMTP settings behind for the next test).
    # Tomorrow's report: its 24 hours end now. Today's ends at REPORT_TIME, which from an
    # hour after it leaves out a campaign that started an hour ago.
    tomorrow = timezone.now().astimezone(ZoneInfo(settings.REPORT_TIMEZONE)).date() + timedelta(
        days=1
    )
    with override_settings(REPORT_LANGUAGE="ru"), translation.override("en"):
        assert reports.send_daily_report(tomorrow, recipients=["team@example.com"])
    mail = smtp_inbox.messages[-1]
    assert str(mail["Subject"]).strip().startswith("Ежедневный отчёт Herald за ")
    assert "1 рассылка, отправлено 1, не отправлено 1" in mail["Subject"]
    text = body(mail, "text/plain")
    html = body(mail, "text/html")
    assert "ИТОГО" in text and "Доля успешных: 50,0 %" in text
    assert '<html lang="ru">' in html and "Не отправлено" in html
    assert not english_words(readable_text(html, "ru"), data={"Herald", "example", "com"})


def test_the_report_preview_follows_the_viewers_language(client, manager):
    client.force_login(manager)
    html = client.get(reverse("dashboard:report"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Ежедневный отчёт Herald за" in html


# --- The catalogue -------------------------------------------------------------------------


def _catalogue() -> polib.POFile:
    return polib.pofile(str(PO))


def test_the_russian_catalogue_has_no_empty_fuzzy_or_obsolete_entries():
    po = _catalogue()
    assert po.metadata["Plural-Forms"].startswith("nplurals=3;")
    assert not po.metadata_is_fuzzy
    problems = []
    for entry in po:
        if entry.obsolete or "fuzzy" in entry.flags:
            problems.append(("obsolete or fuzzy", entry.msgid))
        elif entry.msgid_plural:
            forms = [entry.msgstr_plural.get(i, "") for i in range(3)]
            if not all(forms):
                problems.append(("a plural form is empty", entry.msgid))
        elif not entry.msgstr:
            problems.append(("empty", entry.msgid))
    assert len(po) > 300
    assert not problems, problems


def test_the_compiled_catalogue_matches_the_po_file():
    """django.mo is committed (no gettext tools at run time): it must say what the .po says."""
    po = _catalogue()
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    expected = {}
    for entry in po:
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            for i, form in entry.msgstr_plural.items():
                expected[(key, int(i))] = form
        else:
            expected[key] = entry.msgstr
    compiled = {k: v for k, v in compiled.items() if k != ""}  # "" is the header
    assert compiled == expected, "run: msgfmt -o locale/ru/LC_MESSAGES/django.mo <the .po>"


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs gettext (apt-get install gettext)")
def test_every_string_marked_for_translation_is_in_the_catalogue(tmp_path):
    """makemessages finds nothing new: a string added to the code without Russian fails here."""
    copy = tmp_path / "herald"
    root = Path(settings.BASE_DIR)
    shutil.copytree(
        root,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "db", "staticfiles", "artifacts", "node_modules", "__pycache__"
        ),
    )
    subprocess.run(
        [
            str(root / ".venv" / "bin" / "python"),
            "manage.py",
            "makemessages",
            "-l",
            "ru",
            "--no-location",
            "--ignore=bench/*",
            "--ignore=tests/*",
            "-v",
            "0",
        ],
        cwd=copy,
        check=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "HOME": str(tmp_path)},
    )
    fresh = polib.pofile(str(copy / PO.relative_to(root)))
    untranslated = [e.msgid for e in fresh if not e.obsolete and not e.translated()]
    unused = [e.msgid for e in fresh if e.obsolete]
    assert not untranslated, f"strings without Russian (run makemessages): {untranslated}"
    assert not unused, f"translations no longer used (run makemessages): {unused}"


def test_report_language_must_be_one_of_herald_s_languages():
    import os
    import sys

    code = "import config.settings as s; print(s.REPORT_LANGUAGE)"
    env = {**os.environ, "SECRET_KEY": "x" * 50, "DEBUG": "0"}
    ok = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "REPORT_LANGUAGE": "ru"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0 and ok.stdout.strip() == "ru", ok.stderr
    bad = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "REPORT_LANGUAGE": "de"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode != 0
    assert "REPORT_LANGUAGE must be one of en, ru" in bad.stderr
