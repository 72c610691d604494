"""Who a request came from, believed from forwarded headers only when a proxy of ours says so.

The same address serves sign-in throttling, API throttles and the audit. The proxies are
FORWARDED_ALLOW_IPS, the list gunicorn reads too: a peer outside it is the client itself,
and whatever X-Forwarded-* headers it sends are its own invention.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

# Headers only a proxy may set: the client's address, the scheme, host and port it used.
_FORWARDED_PREFIX = "HTTP_X_FORWARDED_"
_FORWARDED_OTHERS = ("HTTP_FORWARDED", "HTTP_X_REAL_IP")


@functools.cache
def _networks(
    allowed: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry) for entry in allowed if entry != "*")


def is_proxy(address: str | None) -> bool:
    """Whether `address` is one of FORWARDED_ALLOW_IPS, by gunicorn's rules: `*` is any
    peer, and a connection without an IP address (a UNIX socket) is a local proxy."""
    allowed = tuple(settings.FORWARDED_ALLOW_IPS)
    if "*" in allowed or not address:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(allowed))


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest) -> str | None:
    """The peer's address, or behind our proxies the address the outermost one saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so
    reading from the right, the first address that is not one of our proxies is the
    client; anything left of it was written by the client and cannot be trusted.
    """
    peer = request.META.get("REMOTE_ADDR") or None
    if peer is not None and not _valid(peer):
        peer = None  # not an IP connection (a UNIX socket): no address to count or store
    if not is_proxy(peer):
        return peer
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    nearest = peer
    for address in reversed([part for part in chain if part]):
        if not _valid(address):
            break  # not written by a proxy of ours: the nearest hop is all we know
        if not is_proxy(address):
            return address
        nearest = address
    return nearest


def forwarded_headers_from_proxies_only(get_response):
    """Middleware, first of all: a request whose peer is not one of our proxies loses its
    X-Forwarded-* headers, so neither SECURE_PROXY_SSL_HEADER (the HTTPS redirect) nor
    anything after it can be told another scheme, host or address by the client."""

    def middleware(request: HttpRequest):
        if not is_proxy(request.META.get("REMOTE_ADDR")):
            for key in [k for k in request.META if k.startswith(_FORWARDED_PREFIX)]:
                del request.META[key]
            for key in _FORWARDED_OTHERS:
                request.META.pop(key, None)
        return get_response(request)

    return middleware
