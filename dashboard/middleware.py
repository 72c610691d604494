"""Show times in the viewer's time zone, chosen on the account page and kept in a cookie."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from messaging.campaigns.validators import known_timezones

TZ_COOKIE = "herald_tz"


def viewer_timezone(request) -> str:
    name = request.COOKIES.get(TZ_COOKIE, "")
    return name if name in known_timezones() else settings.TIME_ZONE


def viewer_timezone_middleware(get_response):
    def middleware(request):
        request.viewer_timezone = viewer_timezone(request)
        timezone.activate(request.viewer_timezone)
        try:
            return get_response(request)
        finally:
            timezone.deactivate()

    return middleware
