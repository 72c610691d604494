"""The client-local send window: when may a message go out?"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@functools.lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def in_window(local: time, start: time, end: time) -> bool:
    """Is the local time of day inside [start, end)? The window may wrap midnight."""
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    # A wall time skipped by a DST jump resolves forward (fold=0 gives the later instant).
    return datetime.combine(day, at, tzinfo=tz)


def next_send_time(now: datetime, tz_name: str, start: time | None, end: time | None) -> datetime:
    """The earliest instant at or after `now` when the client's local time is in the window."""
    if start is None or end is None:
        return now
    tz = zone(tz_name)
    local = now.astimezone(tz)
    if in_window(local.time(), start, end):
        return now
    opening = _local_at(local.date(), start, tz)
    if opening <= local:
        opening = _local_at(local.date() + timedelta(days=1), start, tz)
    return opening.astimezone(now.tzinfo)
