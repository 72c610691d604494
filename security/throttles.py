"""DRF throttles: per user (so per token) and per anonymous address; 429 with Retry-After.

Rates come from the settings API_THROTTLE_USER and API_THROTTLE_ANON, read at each
request (DRF's own rates are fixed at import). Counts live in Django's default cache,
which is per process: with N web processes a client can make up to N times the rate.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from security.addresses import client_ip


class UserThrottle(SimpleRateThrottle):
    """Requests of one signed-in user or token; anonymous requests are AddressThrottle's."""

    scope = "user"

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_USER or None

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AddressThrottle(SimpleRateThrottle):
    """Anonymous requests (and failed token attempts) from one address.

    Called from the authentication class, before DRF checks permissions: every API
    endpoint needs a user, so DRF's own AnonRateThrottle would never see these requests.
    """

    scope = "anon"

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_ANON or None

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "-"}
