"""The current time, cheaply."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """`django.utils.timezone.now()` without its settings lookup per call (the project
    keeps times in UTC, USE_TZ): on the hot paths that ask it per message (a sender's
    loop, the provider client's) that lookup was several per cent of the CPU (py-spy)."""
    return datetime.now(UTC)
