from __future__ import annotations

import logging
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import BACKEND_SESSION_KEY
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard.access import members
from dashboard.forms import TimezoneForm
from dashboard.middleware import TZ_COOKIE
from dashboard.views import redirect_back
from messaging.reporting.humanize import zone_name
from security.models import ApiToken
from security.tokens import issue_token, revoke_token

log = logging.getLogger(__name__)

AUTH0_BACKEND = "social_core.backends.auth0.Auth0OAuth2"


@require_POST
def logout(request):
    """Sign out; a session that came from Auth0 also ends Auth0's session."""
    through_auth0 = settings.AUTH0_ENABLED and request.session.get(BACKEND_SESSION_KEY) == (
        AUTH0_BACKEND
    )
    auth.logout(request)
    login_url = request.build_absolute_uri(reverse("login"))
    if through_auth0:
        query = urlencode({"client_id": settings.AUTH0_CLIENT_ID, "returnTo": login_url})
        return redirect(f"https://{settings.AUTH0_DOMAIN}/v2/logout?{query}")
    return redirect(login_url)


# The account page's "Create my token" form carries a one-time value, also kept in the
# session; creating a token takes it out. A reload of the answer that shows the key (the
# browser posts again) finds it gone: no new token, and the key is never shown twice.
TOKEN_FORM_SESSION = "herald_token_form"  # noqa: S105 (a session key's name)


def _account_page(request, *, new_key: str | None = None):
    token = ApiToken.objects.filter(user=request.user).first()
    form = TimezoneForm(initial={"timezone": request.viewer_timezone})
    request.session[TOKEN_FORM_SESSION] = form_key = secrets.token_urlsafe(16)
    response = render(
        request,
        "dashboard/account.html",
        {"token": token, "tz_form": form, "new_key": new_key, "token_form_key": form_key},
    )
    if new_key:
        # Neither the browser nor a proxy keeps the page that shows a key.
        patch_cache_control(response, private=True, no_store=True)
    return response


@members
def account(request):
    return _account_page(request)


@members
@require_POST
def set_timezone(request):
    form = TimezoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a time zone from the list."))
        return redirect("dashboard:account")
    zone = form.cleaned_data["timezone"]
    messages.success(request, _("Times are now shown in %(zone)s.") % {"zone": zone_name(zone)})
    response = redirect_back(request, "dashboard:account")
    response.set_cookie(TZ_COOKIE, zone, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@members
@require_POST
def api_token(request):
    """Create or replace one's API token and show its key once, in this answer.

    The key is never written to the session or anywhere else but the answer (which
    nothing may store): Herald keeps only its hash.
    """
    expected = request.session.pop(TOKEN_FORM_SESSION, "")
    if not expected or not constant_time_compare(request.POST.get("form_key", ""), expected):
        messages.info(
            request,
            _(
                "No token was made: that form had been used already. "
                "Press the button again to make a new one."
            ),
        )
        return redirect("dashboard:account")
    key = issue_token(user=request.user, request=request, via="account page")
    return _account_page(request, new_key=key)


@members
def api_token_revoke(request):
    """GET asks for confirmation (works without JavaScript); POST revokes."""
    token = ApiToken.objects.filter(user=request.user).first()
    if request.method == "POST":
        if revoke_token(user=request.user, request=request, via="account page"):
            messages.success(request, _("Your API token is revoked: it no longer works."))
        else:
            messages.info(request, _("You had no API token."))
        return redirect("dashboard:account")
    return render(request, "dashboard/token_revoke.html", {"token": token})
