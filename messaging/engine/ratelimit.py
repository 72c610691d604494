"""PROVIDER_RATE_LIMIT across every worker: a token bucket kept in the database.

Workers take tokens in small chunks so the shared row is written a few times a
second, not once per message.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from messaging.models import RateBucket


def take_tokens(rate: float, want: int, *, now: datetime | None = None) -> int:
    """Take up to `want` tokens from the shared bucket (capacity: one second of rate)."""
    now = now or timezone.now()
    capacity = max(1.0, rate)
    with transaction.atomic():
        bucket = RateBucket.objects.select_for_update().filter(pk=1).first()
        if bucket is None:
            RateBucket.objects.get_or_create(pk=1, defaults={"tokens": 0, "refilled_at": now})
            bucket = RateBucket.objects.select_for_update().get(pk=1)
        elapsed = max(0.0, (now - bucket.refilled_at).total_seconds())
        tokens = min(capacity, bucket.tokens + elapsed * rate)
        granted = int(min(want, tokens))
        bucket.tokens = tokens - granted
        bucket.refilled_at = now
        bucket.save(update_fields=["tokens", "refilled_at"])
    return granted


class RateLimiter:
    """This worker's allowance, refilled from the shared bucket; rate 0 means no cap."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.allowance = 0
        self.next_try = 0.0
        # About a tenth of a second of the global rate per trip to the database.
        self.chunk = max(1, int(rate / 10))

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def try_acquire(self) -> bool:
        if self.unlimited:
            return True
        if self.allowance == 0:
            if time.monotonic() < self.next_try:
                return False
            self.allowance = take_tokens(self.rate, self.chunk)
            if self.allowance == 0:
                self.next_try = time.monotonic() + min(0.1, 1 / self.rate)
                return False
        self.allowance -= 1
        return True
