"""Shared engine state: one row each, read and written by every worker process."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CircuitState(models.TextChoices):
    CLOSED = "closed", _("Closed (sending)")
    OPEN = "open", _("Open (holding: provider failing)")
    HALF_OPEN = "half_open", _("Half open (probing)")


class ProviderState(models.Model):
    """The provider as all workers see it: circuit breaker, credentials, recent health."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    circuit = models.CharField(
        max_length=10, choices=CircuitState.choices, default=CircuitState.CLOSED
    )
    opened_until = models.DateTimeField(null=True, blank=True)
    cooldown_seconds = models.FloatField(default=0)
    probe_started_at = models.DateTimeField(null=True, blank=True)
    credentials_rejected = models.BooleanField(default=False)
    credentials_detail = models.CharField(max_length=300, blank=True, default="")
    # A fingerprint (never the token) of the token the provider refused.
    rejected_token_fingerprint = models.CharField(max_length=64, blank=True, default="")
    last_error = models.CharField(max_length=300, blank=True, default="")
    latency_ms = models.FloatField(null=True, blank=True)
    error_rate = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Provider circuit {self.circuit}"

    @classmethod
    def get(cls) -> ProviderState:
        state, _ = cls.objects.get_or_create(pk=1)
        return state


class RateBucket(models.Model):
    """PROVIDER_RATE_LIMIT's shared slot row: the next free moment a request may go out.

    `next_slot` is a Unix time (seconds, as `time.time()` reads it on every worker
    node); `engine/ratelimit.py` hands out slots from it, one spacing apart.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    next_slot = models.FloatField(default=0)
    # The token bucket's state before the slots (issue 21): unused, kept so that workers of
    # the previous release keep running while a deploy migrates; dropped in a later one.
    tokens = models.FloatField(default=0)
    refilled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"next rate slot at {self.next_slot:.3f}"


class PumpSlot(models.Model):
    """One slot per concurrent sender task: its heartbeat tells whether it is alive."""

    slot = models.PositiveSmallIntegerField(primary_key=True)
    token = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Pump slot {self.slot}"
