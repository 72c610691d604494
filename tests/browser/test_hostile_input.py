"""The hostile-input sweep: hostile strings in every field a user can fill, then every page
of the UI walked in headless Chromium as a Manager.

It fails on any dialog, any CSP violation in the console (an injected inline script or
handler is one), any executed payload, and any payload that reaches the HTML unescaped,
in the pages, in the htmx partials they load and inside the report's frame. This is the
test that would have caught the stored XSS of issue 12 (item 1) on /reports/daily/.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import get_resolver, reverse
from django.utils import timezone
from playwright.sync_api import expect

from messaging.models import (
    AttemptOutcome,
    Campaign,
    Client,
    DeliveryAttempt,
    Message,
    PendingImport,
    StopListEntry,
)
from security.models import AuditEvent, AuditKind
from security.roles import MANAGERS
from security.tokens import issue_token
from tests.browser.conftest import sign_in
from tests.dashboard.test_access import walk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
JS_URL = "javascript:alert(3)"
SVG = "'><svg onload=alert(4)>"
TEMPLATE = "{{7*7}}{{ 1234|add:4321 }}"
ALL = f"{SCRIPT} {IMG} {JS_URL} {SVG} {TEMPLATE}"
TAG = f"{SCRIPT}{IMG}"[:100]
# What must never be in a response as it is (escaped, it reads &lt;script&gt;...).
RAW_MARKERS = [
    "<script>alert(",
    "<img src=x",
    "<svg onload",
    'href="javascript:',
    'src="javascript:',
    "5555",  # {{ 1234|add:4321 }} evaluated
]

DOM_CHECK = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (/^on/i.test(attr.name)) bad.push(`${el.tagName} ${attr.name}`);
      if (['href', 'src', 'action', 'formaction', 'data'].includes(attr.name)
          && /^\\s*javascript:/i.test(attr.value)) {
        bad.push(`${el.tagName} ${attr.name}=javascript:`);
      }
    }
  }
  for (const script of document.querySelectorAll('script')) {
    if (!script.src && script.type !== 'application/json') bad.push('inline script');
  }
  if (document.querySelector('img[src="x"], svg[onload]')) bad.push('injected element');
  if (window.__xss) bad.push('window.__xss set');
  return bad;
}"""


@pytest.fixture
def hostile_world(settings):
    """Hostile strings in the fields filled outside the browser: user names, report settings,
    what the provider answered (shown on message pages)."""
    user = get_user_model().objects.create_user(
        username=f"{SCRIPT}{IMG}"[:150],
        password="pw-hostile",
        first_name=SVG,
        last_name=TEMPLATE,
        email='"<svg onload=alert(4)>"@example.com',
    )
    from security.roles import assign_role

    assign_role(user, MANAGERS)
    other = get_user_model().objects.create_user(
        username=f"{JS_URL}{TEMPLATE}", first_name=IMG, last_name=SCRIPT
    )
    issue_token(user=other)  # an audit line naming them
    settings.REPORT_RECIPIENTS = [f"{SCRIPT}@example.com", f"{IMG}@example.com"]
    settings.EMAIL_HOST = IMG
    return user


def fill_through_the_ui(page) -> tuple[Client, Campaign]:
    # A client, through the page form (works without JavaScript too).
    page.goto("/clients/new/")
    page.locator("#id_phone").fill("79161234567")
    page.locator("#id_tag").fill(TAG)
    page.locator("#id_name").fill(TAG)
    page.locator("#id_custom_fields").fill(f"city: {TAG}")
    page.locator("#id_timezone").select_option("Europe/Moscow")
    page.locator("#id_tag").press("Enter")
    expect(page.get_by_text("Client +7 (916) 123-45-67 saved.")).to_be_visible()
    client = Client.objects.get()
    assert (client.tag, client.name, client.attributes) == (TAG, TAG, {"city": TAG})

    # A file whose headers are hostile stops at the column-matching step, which shows
    # them (and the first rows) back.
    rows = io.StringIO()
    csv.writer(rows, delimiter=";").writerows([["phone", TAG, IMG], ["79261234567", TAG, ALL]])
    page.goto("/clients/import/")
    page.get_by_label("File (CSV or Excel)").set_input_files(
        {"name": f"{IMG}.csv", "mimeType": "text/csv", "buffer": rows.getvalue().encode()}
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Match the columns")).to_be_visible()

    # A campaign that targets it: name, text and tag filter all hostile.
    page.goto("/campaigns/new/")
    page.locator("#id_name").fill(ALL[:200])
    page.locator("#id_text").fill(ALL)
    page.locator("#id_tags").fill(TAG)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("saved. Nothing is sent")).to_be_visible()
    # Reviewed and launched, so it is in every figure and in the daily report.
    page.get_by_role("link", name="Review and launch").click()
    page.get_by_role("button", name="Send to 1 client").click()
    expect(page.get_by_text("Launched:")).to_be_visible()
    campaign = Campaign.objects.get()
    assert campaign.name == ALL[:200] and campaign.text == ALL and campaign.tags == [TAG]
    # The client's phone on the stop list, with a hostile reason.
    page.goto("/clients/stop-list/")
    page.get_by_role("textbox", name="Phones").fill(client.phone)
    page.locator("#id_add-reason").fill(ALL[:200])
    page.get_by_role("button", name="Add to the stop list").click()
    expect(page.get_by_text("Added to the stop list: 1")).to_be_visible()
    assert StopListEntry.objects.get().reason == ALL[:200]
    return client, campaign


def every_dashboard_page(client: Client, campaign: Campaign, message: Message) -> list[str]:
    """Every GET route of the web UI, so that a page added later is swept too."""
    from dashboard.views.campaign_actions import ACTIONS

    objects = {"client": client.pk, "campaign": campaign.pk, "message": message.pk}
    paths = []
    for name, route in walk(get_resolver().url_patterns):
        if not name.startswith("dashboard:"):
            continue
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        kind = name.removeprefix("dashboard:").split("-")[0]
        if params == []:
            paths.append(reverse(name))
        elif params == ["pk"] and kind in objects:
            paths.append(reverse(name, kwargs={"pk": objects[kind]}))
        elif name == "dashboard:client-import-match":
            paths.append(reverse(name, kwargs={"key": PendingImport.objects.get().pk}))
        elif params == ["phone"]:
            paths.append(reverse(name, kwargs={"phone": client.phone}))
        elif params == ["key"]:
            # A stored download (the import's rejected rows): an unknown, hostile key.
            paths.append(reverse(name, kwargs={"key": "x" + SCRIPT.replace("/", "")}))
        elif params == ["pk", "action"] and kind == "campaign":
            paths += [
                reverse(name, kwargs={"pk": campaign.pk, "action": action}) for action in ACTIONS
            ]
        else:
            pytest.fail(f"the sweep does not know how to fill {name} ({route}): teach it")
    return paths


def provider_answers(client: Client, campaign: Campaign) -> Message:
    # The campaign started when it was created (its window contains now): its message
    # exists; the provider's hostile answer is written onto it.
    message, _ = Message.objects.update_or_create(
        campaign=campaign,
        client=client,
        defaults={
            "phone": client.phone,
            "status": "failed",
            "attempts": 1,
            "last_error": f"HTTP 400: {ALL}",
        },
    )
    DeliveryAttempt.objects.create(
        message=message,
        started_at=timezone.now() - timedelta(seconds=5),
        duration_ms=12,
        http_status=400,
        outcome=AttemptOutcome.REJECTED,
        response_excerpt=ALL[:200],
    )
    return message


def test_hostile_input_in_every_field_runs_nowhere_and_is_escaped_everywhere(
    page, live_server, hostile_world
):
    dialogs: list[str] = []
    console: list[str] = []
    responses = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "console",
        lambda message: console.append(message.text) if message.type == "error" else None,
    )
    page.on("response", lambda response: responses.append(response))

    # The sign-in form with a hostile user name: once wrong (the audit shows it), then right.
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(hostile_world.username)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    sign_in(page, hostile_world.username, "pw-hostile")

    client, campaign = fill_through_the_ui(page)
    message = provider_answers(client, campaign)
    kinds = set(AuditEvent.objects.values_list("kind", flat=True))
    assert kinds >= {AuditKind.SIGN_IN, AuditKind.SIGN_IN_FAILED, AuditKind.TOKEN_CREATED}

    pages = [
        "/",
        "/clients/",
        f"/clients/?tag={TAG}",
        f"/clients/?search={SCRIPT}",
        f"/clients/{client.pk}/",
        f"/clients/{client.pk}/edit/",
        f"/clients/{client.pk}/delete/",
        "/clients/import/",
        "/campaigns/",
        f"/campaigns/?name={IMG}",
        f"/campaigns/{campaign.pk}/",
        f"/campaigns/{campaign.pk}/?status=failed",
        f"/campaigns/{campaign.pk}/edit/",
        *(
            f"/campaigns/{campaign.pk}/{action}/"
            for action in ("pause", "resume", "cancel", "retry", "delete")
        ),
        "/campaigns/new/",
        f"/messages/{message.pk}/",
        "/reports/daily/",
        "/account/",
        "/account/token/revoke/",
        "/audit/",
        f"/accounts/login/?next={JS_URL}",
        "/docs/",
    ]
    pages += [path for path in every_dashboard_page(client, campaign, message) if path not in pages]
    problems: list[str] = []
    for path in pages:
        # Asked first with the browser's cookies: what is not a page (POST-only views,
        # CSV downloads) is not navigated to.
        probe = page.request.get(path)
        if probe.status == 405:
            continue
        assert probe.ok or (probe.status == 404 and "/rejected/" in path), (path, probe.status)
        if "text/html" not in (probe.headers.get("content-type") or ""):
            continue
        responses.clear()
        response = page.goto(path)
        assert response is not None and response.status == probe.status, path
        page.wait_for_load_state("load")
        # Every HTML response of this visit: the page, its htmx partials, the report frame.
        for seen in list(responses):
            if not seen.url.startswith(live_server.url):
                continue
            if "text/html" not in (seen.headers.get("content-type") or ""):
                continue
            try:
                body = seen.text()
            except Exception:  # noqa: S112  (a redirect has no body to read)
                continue
            problems += [f"{seen.url}: raw {marker!r}" for marker in RAW_MARKERS if marker in body]
        for frame in page.frames:
            problems += [f"{path} ({frame.url}): {bad}" for bad in frame.evaluate(DOM_CHECK)]

    # The hostile data is on the pages, as text.
    page.goto(f"/campaigns/{campaign.pk}/")
    expect(page.get_by_text(SCRIPT).first).to_be_attached()
    page.goto("/reports/daily/")
    frame = page.frame_locator("iframe[title='HTML version of the report']")
    expect(frame.locator("#campaigns")).to_contain_text(SCRIPT)

    csp = [text for text in console if "Content Security Policy" in text]
    assert problems == []
    assert dialogs == []
    assert csp == []
