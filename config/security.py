"""Rules about how Herald is deployed that settings and system checks share.

Imported by config/settings/base.py, so it must not import Django models.
"""

from __future__ import annotations

import ipaddress

# Published placeholders: k8s/secret.yaml and docker-compose.yml's default. Any value with
# "change-me" in it is refused as well (config/settings/base.py).
KNOWN_PLACEHOLDER_SECRET_KEYS = frozenset(
    {
        "change-me-to-50-random-characters",
        "compose-only-secret-change-me",
    }
)


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
