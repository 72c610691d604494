"""PROVIDER_RATE_LIMIT across every worker: timestamped slots handed out from the database.

The cap is a promise about every sliding second at the provider, so it is kept by
construction, not by a margin on an average:

* **Slots.** One shared row holds the next free slot, a moment on the wall clock
  (`time.time()`, the same on every process of a host; NTP keeps hosts together).
  Slots are handed out `slot_spacing(cap) = (1 + SPREAD) / cap` apart and never
  handed out twice, so any window of 1 + SPREAD seconds holds at most `cap` slots,
  whoever took them and whenever.
* **A request goes out inside its slot or not at all.** It waits for its slot, and
  the provider client checks the clock once more right before the request's first
  byte is written, in the same step as the write: a request that would leave more
  than START_TOLERANCE after its slot is not made (STARTED_LATE) and its message
  takes a new slot. A stalled event loop or a descheduled process therefore cannot
  release a backlog of granted requests at once: late ones are dropped.

So every request leaves Herald within [slot, slot + START_TOLERANCE], and any second
at the provider sees at most `cap` requests as long as the network and the provider's
clock add less than SPREAD - START_TOLERANCE (50 ms) of jitter. The price is the
sustained rate: cap / (1 + SPREAD), 91% of the cap.

Why the token bucket this replaces could let 133 requests through under 120 on a busy
machine: its burst plus a second of refill was 90% of the cap, but a grant could be
used up to 0.15 s after it was taken (a worker's chunk of tokens lived 0.05 s, a
request could start 0.1 s after that), the check sat before aiohttp's connection and
write steps (a stall there released every request past it together), and the grant
was timed on the database clock while the check used the worker's. Each stretched the
"second" a grant belonged to; together, under load, past the cap.
"""

from __future__ import annotations

import math
import time
from collections import deque

from django.db import transaction

from messaging.models import RateBucket

SPREAD = 0.1  # seconds of lateness plus jitter the slots leave room for
START_TOLERANCE = 0.05  # a request may leave this long after its slot, no later
LOOKAHEAD = 0.1  # a worker takes slots at most this far ahead (others share the rest)
RETRY_SECONDS = 0.02  # after finding no slot free


def slot_spacing(cap: float) -> float:
    """Seconds between two slots: `cap` of them span 1 + SPREAD seconds."""
    per_window = math.floor(cap) if cap >= 1 else cap
    return (1 + SPREAD) / per_window


def take_slots(cap: float, want: int, *, now: float | None = None) -> list[float]:
    """Up to `want` slots (Unix times, ascending) from the shared row; none if the near
    future is taken. Every slot is at least `slot_spacing(cap)` after every other one."""
    spacing = slot_spacing(cap)
    with transaction.atomic():
        row = RateBucket.objects.select_for_update().filter(pk=1).first()
        if row is None:
            RateBucket.objects.get_or_create(pk=1)
            row = RateBucket.objects.select_for_update().get(pk=1)
        # The clock is read holding the lock, so the row's slots only move forward.
        now = time.time() if now is None else now
        first = max(row.next_slot, now)
        room = now + LOOKAHEAD - first
        if room < 0:
            return []
        count = max(0, min(want, int(room / spacing) + 1))
        if count:
            row.next_slot = first + count * spacing
            row.save(update_fields=["next_slot"])
    return [first + i * spacing for i in range(count)]


class RateLimiter:
    """This worker's slots, refilled from the shared row; rate 0 means no cap."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.slots: deque[float] = deque()
        self.next_try = 0.0
        self.most = 1 if self.unlimited else int(LOOKAHEAD / slot_spacing(rate)) + 1

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def acquire(self, want: int = 1) -> float | None:
        """A slot for one request (Unix time), or None if none is free now. `want` says
        how many requests are ready, so a worker with little to send takes few slots."""
        now = time.time()
        # A slot whose start window is (nearly) over would only come back as STARTED_LATE.
        while self.slots and self.slots[0] + START_TOLERANCE / 2 < now:
            self.slots.popleft()
        if not self.slots:
            if now < self.next_try:
                return None
            self.slots.extend(take_slots(self.rate, min(max(1, want), self.most)))
            if not self.slots:
                self.next_try = now + RETRY_SECONDS
                return None
        return self.slots.popleft()
