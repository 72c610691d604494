"""The UI language: a person's stored choice first, then the cookie, then Accept-Language.

django.middleware.locale.LocaleMiddleware picks the language from the cookie or the
browser's Accept-Language; for a signed-in user who chose a language on the switcher
the middleware below applies that choice instead, on every request (read once per
session, at sign-in or at the first request, then kept in the session). The API
follows the request's Accept-Language only (not the cookie), so integrators get
errors in the language they ask for.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

SESSION_KEY = "herald_language"
# Only the web UI follows the stored choice; the API follows the request's headers,
# and the machine endpoints (config/ops_urls.py) never touch the session.
API_PREFIX = "/api/"
MACHINE_URLS = {"healthz", "readyz", "metrics"}


def supported(language: str) -> bool:
    return language in dict(settings.LANGUAGES)


def stored_language(request) -> str:
    """The signed-in user's choice ("" for none), cached in the session."""
    from dashboard.models import UserPreference

    session = request.session
    if SESSION_KEY not in session:
        session[SESSION_KEY] = UserPreference.language_of(request.user)
    return session[SESSION_KEY]


class UserLanguageMiddleware:
    """Apply a signed-in user's stored language to the web UI (after LocaleMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.herald_language = ""
        if request.path.startswith(API_PREFIX):
            # Integrators: the request's own Accept-Language, not a browser's cookie.
            language = accepted_language(request.headers.get("Accept-Language", ""))
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        chosen = request.herald_language
        if chosen and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != chosen:
            # The sign-in page (after signing out) stays in the person's language.
            set_language_cookie(response, chosen)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.path.startswith(API_PREFIX) or (match and match.url_name in MACHINE_URLS):
            return None  # never look up a session for the API or the probes
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        chosen = stored_language(request)
        if supported(chosen):
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
            request.herald_language = chosen
        return None


def accepted_language(header: str) -> str:
    """The first language of an Accept-Language header that Herald has, else the default."""
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )


@receiver(user_logged_in)
def apply_language_at_sign_in(sender, request, user, **kwargs) -> None:
    """At sign-in: the stored choice wins; with none, a choice made before signing in is kept."""
    from dashboard.models import UserPreference

    if request is None or not hasattr(request, "session"):
        return
    chosen = UserPreference.language_of(user)
    if not chosen:
        before = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if supported(before):
            UserPreference.remember_language(user, before)
            chosen = before
    request.session[SESSION_KEY] = chosen
    if chosen:
        translation.activate(chosen)
        request.LANGUAGE_CODE = chosen
