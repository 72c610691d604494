from __future__ import annotations

from django.conf import settings

from security.roles import is_manager


def herald(request) -> dict:
    return {
        "is_manager": is_manager(getattr(request, "user", None)),
        "auth0_enabled": settings.AUTH0_ENABLED,
        "viewer_timezone": getattr(request, "viewer_timezone", settings.TIME_ZONE),
    }
