"""One log line per request: method, path, status, duration, user, and the ids in the URL;
and no cache keeps what a signed-in user is answered."""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.functional import empty

from core import logs

log = logging.getLogger("herald.requests")

# Probes and scrapes every few seconds would drown the useful lines.
QUIET_PATHS = ("/healthz", "/readyz", "/metrics", "/static/")
# URL keyword arguments that name an object directly.
ID_KWARGS = {
    "campaign_id": "campaign_id",
    "campaign_pk": "campaign_id",
    "message_id": "message_id",
    "message_pk": "message_id",
    "client_id": "client_id",
    "client_pk": "client_id",
}
# For `pk`, the URL name says what it is: "api:campaign-detail", "dashboard:client-edit".
NAME_PREFIXES = {"campaign": "campaign_id", "message": "message_id", "client": "client_id"}


def ids_from_url(url_name: str | None, kwargs: dict) -> dict[str, int]:
    ids = {}
    for key, value in kwargs.items():
        field = ID_KWARGS.get(key)
        if field is None and key in ("pk", "id") and url_name:
            field = NAME_PREFIXES.get(url_name.replace("_", "-").split("-")[0])
        if field is not None and str(value).isdigit():
            ids[field] = int(value)
    return ids


def _username(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is None:
        return "-"
    try:
        return user.get_username() if user.is_authenticated else "-"
    except DatabaseError:  # the session or user could not be read; the line still goes out
        return "?"


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        with logs.log_context():
            response = self.get_response(request)
            duration_ms = (time.monotonic() - started) * 1000
            level = logging.WARNING if response.status_code >= 500 else logging.INFO
            if request.path.startswith(QUIET_PATHS):
                level = logging.DEBUG
            # Checked first so that a probe's line costs no session lookup.
            if log.isEnabledFor(level):
                log.log(
                    level,
                    "request method=%s path=%s status=%s duration_ms=%d user=%s",
                    request.method,
                    request.path,
                    response.status_code,
                    duration_ms,
                    _username(request),
                )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        logs.bind(**ids_from_url(match.url_name if match else None, view_kwargs))


def private_when_signed_in(get_response):
    """Cache-Control: private, no-store on every answer to a signed-in user or an API token
    (DRF puts its user on the request too): pages, fragments and exports hold phone numbers
    and keys that neither a shared proxy nor the browser's cache may keep. Static files are
    answered by WhiteNoise before this runs and stay cacheable."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        user = getattr(request, "user", None)
        if user is None or getattr(user, "_wrapped", None) is empty:
            # Nothing looked at who is asking (a probe, a scrape): the answer is the same
            # for anyone, and the session need not be read to find out.
            return response
        try:
            signed_in = user.is_authenticated
        except DatabaseError:  # the session could not be read: assume the worst
            signed_in = True
        if signed_in:
            patch_cache_control(response, private=True, no_store=True)
        return response

    return middleware
