"""PROVIDER_RATE_LIMIT across every worker: a token bucket kept in the database.

The cap is a promise about any one second at the provider, so the bucket holds at
most a twentieth of a second's burst and refills at 90% of the rate less that
burst: however the grants fall, and however the network spreads the requests a
little on their way, no second at the provider sees more than the cap. Workers take tokens in
small chunks (a few trips to the shared row a second, not one per message) and
drop a chunk they could not use at once, so tokens are spent when they are taken.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from messaging.models import RateBucket

BURST_SHARE = 0.05  # of a second's rate: the most the bucket holds
SUSTAINED_SHARE = 0.9  # of the rate: burst plus refill, leaving room for network jitter
CHUNK_SHARE = 0.05  # of a second's rate: what a worker takes per trip to the database
CHUNK_LIFETIME = 0.05  # seconds a worker may hold taken tokens before it drops them


def bucket_shape(rate: float) -> tuple[float, float]:
    """(capacity, refill per second): together well under `rate` in any second."""
    capacity = max(1.0, rate * BURST_SHARE)
    return capacity, max(rate * SUSTAINED_SHARE - capacity, rate * 0.5)


def take_tokens(rate: float, want: int, *, now: datetime | None = None) -> int:
    """Take up to `want` tokens from the shared bucket."""
    capacity, refill = bucket_shape(rate)
    with transaction.atomic():
        bucket = RateBucket.objects.select_for_update().filter(pk=1).first()
        # Read the clock holding the lock, and never move the bucket's time back: a
        # worker that waited for the lock must not refill the same interval twice.
        now = now or timezone.now()
        if bucket is None:
            RateBucket.objects.get_or_create(pk=1, defaults={"tokens": 0, "refilled_at": now})
            bucket = RateBucket.objects.select_for_update().get(pk=1)
        now = max(now, bucket.refilled_at)
        elapsed = (now - bucket.refilled_at).total_seconds()
        tokens = min(capacity, bucket.tokens + elapsed * refill)
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
        self.taken_at = 0.0
        self.next_try = 0.0
        self.chunk = max(1, int(rate * CHUNK_SHARE))

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def try_acquire(self) -> bool:
        if self.unlimited:
            return True
        if self.allowance and time.monotonic() - self.taken_at > CHUNK_LIFETIME:
            self.allowance = 0  # spent late, it could crowd a later second
        if self.allowance == 0:
            if time.monotonic() < self.next_try:
                return False
            self.allowance = take_tokens(self.rate, self.chunk)
            self.taken_at = time.monotonic()
            if self.allowance == 0:
                self.next_try = time.monotonic() + min(0.05, 1 / self.rate)
                return False
        self.allowance -= 1
        return True
