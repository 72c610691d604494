"""Rules about how Herald is deployed that settings and system checks share.

Imported by config/settings/base.py, so it must not import Django models.
"""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ImproperlyConfigured

# Published placeholders: k8s/secret.yaml's and docker-compose.yml's defaults. Any value
# with "change-me" in it is refused as well (config/settings/base.py, reports.py).
KNOWN_PLACEHOLDER_SECRET_KEYS = frozenset(
    {
        "change-me-to-50-random-characters",
        "compose-only-secret-change-me",
    }
)
KNOWN_PLACEHOLDER_METRICS_TOKENS = frozenset({"change-me-metrics-token"})


def is_placeholder(value: str, known: frozenset[str]) -> bool:
    """A published placeholder: anyone who read the repository knows it."""
    return value in known or "change-me" in value.lower()


def is_local_host(host: str) -> bool:
    """A name only this machine or its own container network reaches.

    Loopback addresses, and single-label names such as `localhost` or compose's `web`:
    no certificate authority issues a certificate for those, so they cannot have TLS
    in front of them anyway.
    """
    host = host.strip("[]").lower()
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host != "*" and "." not in host.strip(".")


def plain_http_public_hosts(allowed_hosts: list[str]) -> list[str]:
    """The hosts in ALLOWED_HOSTS that would be served over plain HTTP but are public."""
    return [host for host in allowed_hosts if not is_local_host(host)]


# gunicorn's own default for FORWARDED_ALLOW_IPS: a proxy on the same host.
DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"


def forwarded_allow_ips(raw: str) -> list[str]:
    """FORWARDED_ALLOW_IPS as gunicorn reads it: comma-separated addresses or networks
    (CIDR, host bits clear), or `*` for any peer. A value gunicorn would refuse stops
    Django's start too, so the two never disagree about who the proxies are."""
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"FORWARDED_ALLOW_IPS: {entry!r} is not an address or a network ({exc})"
            ) from None
    return entries
