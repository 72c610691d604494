from __future__ import annotations

from django.conf import settings
from django.db import models

# Test sends use their own msgId space, far above any Message id: the provider
# de-duplicates by msgId, so a test reusing a real message's id could make the provider
# drop that message later as a repeat (or drop the test). Message ids come from a
# 64-bit sequence starting at 1 and would need 2**62 messages to get here.
TEST_SEND_ID_BASE = 2**62


class TestSend(models.Model):
    """One "send a test" from the composer: who, when, to which phone, what, and the outcome.

    Kept apart from Message on purpose: a test is never part of a campaign's figures.
    """

    __test__ = False  # not a pytest test class, despite its name

    created_at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    campaign = models.ForeignKey(
        "messaging.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    phone = models.CharField(max_length=11)
    text = models.TextField()
    sent = models.BooleanField(default=False)
    outcome = models.CharField(max_length=20, blank=True, default="")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="")
    response_excerpt = models.CharField(max_length=200, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Test send #{self.pk} to {self.phone}"

    @property
    def message_id(self) -> int:
        """The msgId sent to the provider."""
        return TEST_SEND_ID_BASE + self.pk
