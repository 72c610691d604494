"""A fuzz pass over the web UI's query parameters: odd input is never a 500.

Every list page's filters, sort, page and page size (`per_page`), the partials htmx polls,
the campaign form's live preview and the `next` of the login page get hostile and
malformed values: one
value in every parameter at once, every parameter alone with the nastiest values, then
random combinations (hypothesis, derandomized so that a failure repeats).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as BrowserClient
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.models import Message
from tests.conftest import make_campaign, make_client

pytestmark = pytest.mark.django_db

VALUES = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "1e9",
    "99999999999999999999999",
    "²",
    "٣",
    "\uff11\uff12",
    "abc",
    "-",
    "--",
    "__class__",
    "phone,tag",
    "-pk",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "javascript:alert(3)",
    "{{7*7}}",
    "'; DROP TABLE messaging_client; --",
    "%",
    "\\",
    "\x00",
    "\ud83d",  # a lone surrogate: not encodable as UTF-8
    "🙂",
    "a" * 5000,
    "2026-02-30T25:61",
    "//evil.example/",
    "https://evil.example/",
]
NASTIEST = ["²", "\x00", "-1", "0", "99999999999999999999999", "__class__", "a" * 5000]

# What every django-tables2 table reads from the query (dashboard/tables.py).
TABLE = ["sort", "page", "per_page"]
CLIENT_FILTERS = ["search", "operator_code", "tag", "timezone", *TABLE]
PREVIEW_FIELDS = [
    "name",
    "text",
    "start_at",
    "end_at",
    "operator_codes",
    "tags",
    "send_window_start",
    "send_window_end",
    "campaign",
]


@pytest.fixture
def browser(as_manager):
    """The Manager's client, answering 500 like the server instead of raising."""
    as_manager.raise_request_exception = False
    return as_manager


@pytest.fixture
def pages(db):
    client = make_client("79161234567", tag="vip")
    campaign = make_campaign(name="Spring", tags=["vip"], start_in=timedelta(minutes=-5))
    message = Message.objects.get(campaign=campaign, client=client)  # started by the create
    # "#id" after a path asks (as htmx) for the fragment that element swaps in.
    return {
        "/": [],
        "/#dashboard-live": [],
        "/clients/": CLIENT_FILTERS,
        "/clients/export.csv": CLIENT_FILTERS,
        f"/clients/{client.pk}/": ["status", *TABLE],
        f"/clients/{client.pk}/#client-messages": ["status", *TABLE],
        "/campaigns/": ["status", "name", *TABLE],
        "/campaigns/#campaigns-table": ["status", "name", *TABLE],
        "/campaigns/new/": PREVIEW_FIELDS,
        "/campaigns/new/#campaign-preview": PREVIEW_FIELDS,
        f"/campaigns/{campaign.pk}/edit/#campaign-preview": PREVIEW_FIELDS,
        f"/campaigns/{campaign.pk}/": ["status", *TABLE],
        f"/campaigns/{campaign.pk}/#campaign-live": ["status", *TABLE],
        f"/campaigns/{campaign.pk}/#campaign-messages": ["status", *TABLE],
        f"/campaigns/{campaign.pk}/edit/": [],
        f"/campaigns/{campaign.pk}/pause/": [],
        f"/messages/{message.pk}/": ["page"],
        "/reports/daily/": [],
        "/account/": [],
        "/audit/": ["kind", "page", "per_page"],
        "/accounts/login/": ["next"],
    }


def fetch(browser, path: str, query: dict, *, htmx: bool = False):
    path, _, target = path.partition("#")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx or target else {}
    if target:
        headers["HTTP_HX_TARGET"] = target
    try:
        return browser.get(path, query, **headers)
    except UnicodeEncodeError:
        # The test client cannot even encode a lone surrogate; a browser sends %ED%A0%BD.
        return None


def assert_no_server_error(response, path, query):
    if response is not None:
        assert response.status_code < 500, (path, {k: v[:40] for k, v in query.items()})


def test_every_parameter_at_once_with_each_odd_value(browser, pages):
    errors = []
    for path, params in pages.items():
        for index, value in enumerate(VALUES):
            query = dict.fromkeys(params, value)
            htmx = index % 2 == 1  # every other value as the htmx partial
            response = fetch(browser, path, query, htmx=htmx)
            if response is not None and response.status_code >= 500:
                errors.append((path, value[:20], htmx))
    assert errors == [], errors


def test_each_parameter_alone_with_the_nastiest_values(browser, pages):
    for path, params in pages.items():
        for param in params:
            for value in NASTIEST:
                query = {param: value}
                assert_no_server_error(fetch(browser, path, query), path, query)


def test_repeated_parameters_and_unknown_ones(browser, pages):
    for path, params in pages.items():
        query = {name: ["1", "x", "²"] for name in params if name != "search"}
        query["unknown"] = ["<b>"]
        assert_no_server_error(fetch(browser, path, query), path, {})


def test_random_combinations(browser, pages):
    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data):
        path = data.draw(st.sampled_from(sorted(pages)))
        params = pages[path] or ["q"]
        query = data.draw(
            st.dictionaries(
                st.sampled_from(params),
                st.one_of(st.sampled_from(VALUES), st.text(max_size=30)),
                max_size=len(params),
            )
        )
        htmx = data.draw(st.booleans())
        assert_no_server_error(fetch(browser, path, query, htmx=htmx), path, query)

    run()


def test_the_login_page_next_never_leads_off_site(db):
    from tests.conftest import make_user

    make_user("mara", None)
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        browser = BrowserClient()
        page = browser.get("/accounts/login/", {"next": target})
        assert page.status_code == 200
        assert 'href="javascript:' not in page.content.decode()
        response = browser.post(
            f"/accounts/login/?next={target}",
            {"username": "mara", "password": "pw-mara", "next": target},
        )
        assert response.status_code == 302
        assert response["Location"] == "/", target


@pytest.mark.parametrize("path", ["/clients/", "/clients/export.csv"])
@pytest.mark.parametrize("value", ["²", "٣", "\uff11\uff12"])
def test_search_with_non_ascii_digits(browser, path, value):
    assert browser.get(path, {"search": value}).status_code < 500


@pytest.mark.parametrize("field", ["name", "text", "tags", "operator_codes"])
def test_a_nul_character_in_the_campaign_form_is_a_form_error(browser, field):
    """PostgreSQL refuses NUL in text: the form must, before the database does."""
    from messaging.models import Campaign

    start = timezone.localtime() + timedelta(hours=1)
    data = {
        "name": "Spring",
        "text": "Hello",
        "start_at": start.strftime("%Y-%m-%dT%H:%M"),
        "end_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "operator_codes": "",
        "tags": "",
    }
    data[field] = "a\x00b"
    response = browser.post("/campaigns/new/", data)
    assert response.status_code == 400  # the form again, with the error
    assert "Null characters are not allowed" in response.content.decode()
    assert not Campaign.objects.exists()
