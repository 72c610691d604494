"""Nobody reaches a page without signing in; Viewers read but never write."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from messaging.models import Campaign, Client
from tests.conftest import make_campaign, make_client, make_user

# Pages anyone may open: signing in (password or SSO) and liveness probes.
PUBLIC = {
    "login",
    "admin:login",
    "logout",  # POST only; signing out an anonymous user changes nothing
    "set-language",  # POST only; sets the asker's own language cookie
    "social:begin",
    "social:complete",
    "social:idp_launch",
    "social:app_launch",
    "healthz",
    "readyz",
}


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from walk(
                entry.url_patterns,
                prefix + str(entry.pattern),
                f"{namespace}{ns}:" if ns else namespace,
            )
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or ''}", prefix + str(entry.pattern)


SAMPLE = {
    "pk": "{pk}",
    "campaign_pk": "{pk}",
    "format": "json",
    "action": "pause",
    "phone": "79161234567",
}


def concrete(route: str, pk: int) -> str:
    """A real path for a route or regex, with sample values for its parameters."""
    path = re.sub(
        r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE.get(m.group(1), "1").format(pk=pk), route
    )
    path = re.sub(
        r"<(?:(\w+):)?(\w+)>",
        lambda m: (
            ".json"
            if m.group(1) == "drf_format_suffix"
            else SAMPLE.get(m.group(2), "1").format(pk=pk)
        ),
        path,
    )
    path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
    return "/" + path.replace("\\", "")


def all_routes():
    return sorted(set(walk(get_resolver().url_patterns)))


def is_refused(client, response) -> bool:
    """Refused outright, or sent (perhaps through another redirect) to a sign-in page."""
    for _ in range(3):
        if response.status_code in (401, 403, 405):
            return True
        if response.status_code != 302:
            return False
        if "login" in response["Location"]:
            return True
        response = client.get(response["Location"])
    return False


@pytest.mark.django_db
def test_every_url_but_the_public_ones_refuses_anonymous_users(client):
    client_row = make_client("79161234567")
    campaign = make_campaign()
    pk = campaign.pk
    checked = []
    for name, route in all_routes():
        if name in PUBLIC:
            continue
        path = concrete(route, pk)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            status = response.status_code
            assert is_refused(client, response), f"{method.upper()} {path} ({name}) -> {status}"
        checked.append(name)
    assert "dashboard:campaign-detail" in checked
    assert "dashboard:client-list" in checked
    assert len(checked) > 30
    # Nothing was changed by the anonymous POSTs.
    assert Campaign.objects.get(pk=pk).status == "scheduled"
    assert Client.objects.filter(pk=client_row.pk).exists()


def dashboard_routes():
    return [(n, r) for n, r in all_routes() if n.startswith("dashboard:")]


@pytest.mark.django_db
def test_a_user_without_a_role_is_refused_every_dashboard_page(client):
    client.force_login(make_user("nobody", None))
    campaign = make_campaign()
    make_client("79161234567")
    for name, route in dashboard_routes():
        response = client.get(concrete(route, campaign.pk))
        assert response.status_code in (403, 405), name


WRITE_VIEWS = [
    ("dashboard:client-create", {}),
    ("dashboard:client-import", {}),
    ("dashboard:client-edit", {"pk": "client"}),
    ("dashboard:client-delete", {"pk": "client"}),
    ("dashboard:campaign-create", {}),
    ("dashboard:campaign-edit", {"pk": "campaign"}),
    ("dashboard:campaign-action", {"pk": "campaign", "action": "pause"}),
    ("dashboard:campaign-action", {"pk": "campaign", "action": "cancel"}),
    ("dashboard:campaign-action", {"pk": "campaign", "action": "delete"}),
    ("dashboard:report", {}),
    ("dashboard:client-stop-list-add", {}),
    ("dashboard:client-stop-list-import", {}),
    ("dashboard:client-stop-list-remove", {"phone": "79161234567"}),
]


@pytest.mark.django_db
def test_viewers_are_refused_every_write_even_when_posting_directly(client, viewer):
    client.force_login(viewer)
    target = {"client": make_client("79161234567").pk, "campaign": make_campaign().pk}
    for name, kwargs in WRITE_VIEWS:
        kwargs = {k: target.get(v, v) for k, v in kwargs.items()}
        url = reverse(name, kwargs=kwargs)
        response = client.post(url, {"phone": "79990000000", "timezone": "UTC", "text": "x"})
        assert response.status_code == 403, name
    assert Client.objects.count() == 1
    campaign = Campaign.objects.get()
    assert campaign.status == "scheduled"


@pytest.mark.django_db
def test_viewers_see_no_write_controls(client, viewer):
    client.force_login(viewer)
    c = make_client("79161234567")
    campaign = make_campaign(name="Spring")
    pages = [
        reverse("dashboard:home"),
        reverse("dashboard:client-list"),
        reverse("dashboard:client-detail", args=[c.pk]),
        reverse("dashboard:campaign-list"),
        reverse("dashboard:campaign-detail", args=[campaign.pk]),
    ]
    forbidden_links = [
        reverse("dashboard:client-create"),
        reverse("dashboard:client-import"),
        reverse("dashboard:client-edit", args=[c.pk]),
        reverse("dashboard:client-delete", args=[c.pk]),
        reverse("dashboard:campaign-create"),
        reverse("dashboard:campaign-edit", args=[campaign.pk]),
        reverse("dashboard:campaign-action", args=[campaign.pk, "pause"]),
        reverse("dashboard:campaign-action", args=[campaign.pk, "delete"]),
    ]
    # The campaign page's live counters, as its poll asks for them.
    live = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "campaign-live"}
    for page, headers in [(page, {}) for page in pages] + [(pages[-1], live)]:
        html = client.get(page, **headers).content.decode()
        for link in forbidden_links:
            assert f'href="{link}"' not in html, (page, headers, link)


@pytest.mark.django_db
def test_managers_see_the_write_controls(client, manager):
    client.force_login(manager)
    campaign = make_campaign(name="Spring")
    html = client.get(reverse("dashboard:campaign-detail", args=[campaign.pk])).content.decode()
    assert reverse("dashboard:campaign-action", args=[campaign.pk, "pause"]) in html
    assert reverse("dashboard:campaign-edit", args=[campaign.pk]) in html


@pytest.mark.django_db
def test_garbage_in_the_query_string_never_makes_a_500(client, viewer):
    client.force_login(viewer)
    campaign = make_campaign()
    garbage = {"page": "abc", "sort": "nope';--", "status": "x" * 300, "timezone": "Mars/Base"}
    for url in (
        reverse("dashboard:client-list"),
        reverse("dashboard:campaign-list"),
        reverse("dashboard:campaign-detail", args=[campaign.pk]),
        reverse("dashboard:client-export"),
    ):
        assert client.get(url, garbage).status_code in (200, 404), url
    assert client.get(url, {"page": "99999"}).status_code in (200, 404)


@pytest.mark.django_db
def test_missing_objects_get_a_404_page(client, viewer):
    client.force_login(viewer)
    for name in ("client-detail", "campaign-detail", "message-detail"):
        response = client.get(reverse(f"dashboard:{name}", args=[999999]))
        assert response.status_code == 404
        assert "Not found" in response.content.decode()


@pytest.mark.django_db
def test_an_expired_session_sends_a_polling_page_to_sign_in_not_its_fragment(client):
    campaign = make_campaign()
    response = client.get(
        reverse("dashboard:campaign-detail", args=[campaign.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="campaign-live",
        HTTP_HX_CURRENT_URL=f"http://testserver/campaigns/{campaign.pk}/",
    )
    assert response["HX-Redirect"] == f"/accounts/login/?next=/campaigns/{campaign.pk}/"
    assert b"Sign in" not in response.content
