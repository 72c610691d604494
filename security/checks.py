"""System checks that `manage.py check --deploy` runs next to Django's own."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from core.deployment import plain_http_public_hosts


@checks.register(checks.Tags.security, deploy=True)
def public_hosts_need_tls(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Django's HSTS and HTTPS-redirect warnings are silenced without SECURE_PROXY_SSL
    (config/settings/headers.py); that is only right when every host is this machine."""
    if settings.DEBUG or settings.SECURE_PROXY_SSL:
        return []
    public = plain_http_public_hosts(settings.ALLOWED_HOSTS)
    if not public:
        return []
    return [
        checks.Warning(
            f"{', '.join(public)} would be served over plain HTTP: put TLS in front and set "
            "SECURE_PROXY_SSL=1 (HTTPS redirect, HSTS).",
            id="herald.W001",
        )
    ]
