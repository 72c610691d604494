"""Read settings from the environment; a bad value stops the start with a clear message."""

from __future__ import annotations

import os
import re
import zoneinfo
from datetime import time
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_decimal(name: str, *, minimum: Decimal | None = None) -> Decimal | None:
    """A decimal (money: no float rounding), or None when the variable is unset or empty."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = Decimal(raw.strip().replace(",", "."))
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be a decimal number, got {raw!r}") from None
    if not value.is_finite() or (minimum is not None and value < minimum):
        raise ImproperlyConfigured(f"{name} must be a number of at least {minimum}, got {raw!r}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_time(name: str, default: str) -> time:
    """A time of day written HH:MM (24-hour clock)."""
    raw = os.environ.get(name) or default
    try:
        return time.fromisoformat(raw.strip()).replace(second=0, microsecond=0)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a time of day HH:MM, got {raw!r}") from None


def env_timezone(name: str, default: str) -> str:
    """An IANA time zone name such as Europe/Moscow."""
    raw = (os.environ.get(name) or default).strip()
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name} {raw!r} is not an IANA time zone") from None
    return raw


def env_http_url(name: str, default: str) -> str:
    """An http:// or https:// URL with a host, without a trailing slash."""
    raw = os.environ.get(name) or default
    parsed = urlsplit(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ImproperlyConfigured(f"{name} must be an http:// or https:// URL, got {raw!r}")
    return raw.rstrip("/")


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$", re.I)


def env_rate(name: str, default: str) -> str | None:
    """A request rate for DRF ("100/minute"), or None for "off"."""
    raw = os.environ.get(name, default).strip()
    if raw.lower() in ("off", "0", "none", ""):
        return None
    match = _RATE.match(raw)
    if not match:
        raise ImproperlyConfigured(
            f"{name} must be a rate like 100/minute (second, minute, hour, day) or off, got {raw!r}"
        )
    return f"{int(match.group(1))}/{match.group(2).lower()}"
