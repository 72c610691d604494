"""TLS, headers, cookies, the Content-Security-Policy, and the proxies in front."""

from __future__ import annotations

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.settings.base import DEBUG
from config.settings.signin import AUTH0_DOMAIN, AUTH0_ENABLED
from core.deployment import DEFAULT_FORWARDED_ALLOW_IPS, forwarded_allow_ips
from core.env import env_bool, env_int, env_str

# --- Security: TLS, headers, cookies, Content-Security-Policy ------------------------
# Behind a TLS-terminating proxy (the Kubernetes ingress) set SECURE_PROXY_SSL=1: Herald
# then trusts its X-Forwarded-Proto (from FORWARDED_ALLOW_IPS peers only, below),
# redirects plain HTTP to HTTPS and sends HSTS.
SECURE_PROXY_SSL = env_bool("SECURE_PROXY_SSL", False)
if SECURE_PROXY_SSL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = SECURE_PROXY_SSL
# Probes and scrapers address a pod over plain HTTP, without the proxy's header.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$", r"^metrics/?$"]
SECURE_HSTS_SECONDS = (
    env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0) if SECURE_PROXY_SSL else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Browsers keep Secure cookies for http://localhost too, so only DEBUG (make run) needs
# them plain; any other deployment is meant to be served over TLS.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Django's defaults, stated: X-Frame-Options DENY (static files too: the middleware runs
# before WhiteNoise), nosniff, Referrer-Policy same-origin, Cross-Origin-Opener-Policy
# same-origin.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not SECURE_PROXY_SSL:
    # Without TLS in front there is no HTTPS to redirect to or to pin with HSTS, which
    # check --deploy reports as W004/W008. That is only right on the host itself:
    # core.deployment's check warns when a public host name is served that way.
    SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008"]

# The proxies in front (the ingress): X-Forwarded-For and X-Forwarded-Proto are believed
# only from these peers (security/addresses.py), and gunicorn reads the same variable
# (config/gunicorn.py), so both agree on the client's address and on the scheme.
FORWARDED_ALLOW_IPS = forwarded_allow_ips(
    env_str("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS)
)
if env_str("TRUSTED_PROXIES"):
    raise ImproperlyConfigured(
        "TRUSTED_PROXIES is no longer read: list the proxies' addresses or networks in "
        "FORWARDED_ALLOW_IPS instead (the same variable gunicorn reads)"
    )

# Permissions-Policy (django-permissions-policy): none of the browser's powerful features
# is for Herald's pages, nor for anything that might get framed into them.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# django-csp: scripts and styles only from Herald's own static files; no inline
# script, style attribute or eval anywhere (tests/dashboard/test_templates_csp_ready.py). The
# report page's email preview and Swagger UI are handled in their views.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap and Swagger UI draw small icons as data: SVG images.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        # Sign-in and sign-out through Auth0 redirect a form POST to its domain.
        "form-action": [SELF, *([f"https://{AUTH0_DOMAIN}"] if AUTH0_ENABLED else [])],
    }
}
