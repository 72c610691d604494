"""Configuration of the local provider: its faults, checked as they are set."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

log = logging.getLogger(__name__)


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001
DEFAULT_REQUEST_LOG_SIZE = 1_000_000
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024
# A client that keeps sending while we hold its answer back gets cut off past this.
MAX_BUFFERED_BYTES = 4 * 1024 * 1024
INT64_MAX = 2**63 - 1
PHONE_MIN, PHONE_MAX = 10**10, 10**11 - 1  # exactly 11 digits
SEND_PREFIX = "/v1/send/"
OUTAGE_MODES = ("503", "reset")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
ERROR_STATUSES = (500, 502, 503)
# Bodies a broken provider might send with a 200: HTML, truncated JSON, plain text, nothing.
GARBAGE_BODIES = (
    (b"text/html", b"<html><body>oops</body></html>"),
    (b"application/json", b'{"code": 0'),
    (b"application/json", b'{"code": 0, "message": "OK"'),
    (b"text/plain", b"OK"),
    (b"application/json", b""),
)


# --------------------------------------------------------------------------- configuration


class ConfigError(ValueError):
    """A bad config value; the message names the field and never contains the token."""


@dataclass(frozen=True)
class ProviderConfig:
    """The fault-injection settings. Frozen: a change swaps the whole object atomically."""

    token: str | None = None
    check_token: bool = True
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    garbage_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    outage: bool = False
    outage_mode: str = "503"
    rate_429: float = 0.0
    retry_after: int = 1

    def updated(self, changes: Mapping[str, Any]) -> ProviderConfig:
        """A copy with `changes` applied; raises ConfigError listing every bad field."""
        return replace(self, **validate_changes(changes))

    def public(self) -> dict[str, Any]:
        """The config as JSON-ready data, with the token replaced by whether one is set."""
        data = asdict(self)
        data["token_set"] = bool(data.pop("token"))
        return data


CONFIG_FIELDS = tuple(f.name for f in fields(ProviderConfig))


def _is_number(value: Any) -> bool:
    # bool is an int subclass, but `"error_rate": true` is a mistake, not 1.0.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _rate(name: str, value: Any) -> float:
    if not _is_number(value) or not 0 <= value <= 1:
        raise ConfigError(f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _milliseconds(name: str, value: Any) -> float:
    if not _is_number(value) or not 0 <= value <= 600_000:
        raise ConfigError(f"{name} must be a number of milliseconds in 0..600000, got {value!r}")
    return float(value)


def _hang_seconds(name: str, value: Any) -> float:
    if not _is_number(value) or not 0 < value <= 3600:
        raise ConfigError(f"{name} must be a number of seconds in (0, 3600], got {value!r}")
    return float(value)


def _retry_after(name: str, value: Any) -> int:
    if not _is_number(value) or value != int(value) or not 0 <= value <= 86_400:
        raise ConfigError(f"{name} must be a whole number of seconds in 0..86400, got {value!r}")
    return int(value)


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    return value


def _outage_mode(name: str, value: Any) -> str:
    if str(value) not in OUTAGE_MODES:
        raise ConfigError(f"{name} must be one of {', '.join(OUTAGE_MODES)}, got {value!r}")
    return str(value)


def _token(name: str, value: Any) -> str | None:
    # The value is never echoed back: error messages end up in logs and test output.
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string or null")
    if not value.isprintable() or any(c.isspace() for c in value):
        raise ConfigError(f"{name} must not contain spaces or control characters")
    return value


_VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "token": _token,
    "check_token": _boolean,
    "latency_ms": _milliseconds,
    "latency_jitter_ms": _milliseconds,
    "error_rate": _rate,
    "garbage_rate": _rate,
    "hang_rate": _rate,
    "hang_seconds": _hang_seconds,
    "outage": _boolean,
    "outage_mode": _outage_mode,
    "rate_429": _rate,
    "retry_after": _retry_after,
}
assert set(_VALIDATORS) == set(CONFIG_FIELDS)


def validate_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Check a partial config; returns the cleaned values or raises ConfigError."""
    if not isinstance(changes, Mapping):
        raise ConfigError("config changes must be a JSON object")
    clean: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in changes.items():
        validator = _VALIDATORS.get(name)
        if validator is None:
            problems.append(f"unknown field {name!r} (known: {', '.join(CONFIG_FIELDS)})")
            continue
        try:
            clean[name] = validator(name, value)
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("; ".join(problems))
    return clean


def _describe_changes(changes: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{name}={'<set>' if value else '<none>'}" if name == "token" else f"{name}={value!r}"
        for name, value in changes.items()
    )
