from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from messaging.models.idlists import Among


class MessageStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("message status", "Pending")
    SENDING = "sending", pgettext_lazy("message status", "In flight")
    SENT = "sent", pgettext_lazy("message status", "Sent")
    FAILED = "failed", pgettext_lazy("message status", "Failed")
    EXPIRED = "expired", pgettext_lazy("message status", "Expired")
    CANCELLED = "cancelled", pgettext_lazy("message status", "Cancelled")


UNSENT_STATUSES = (MessageStatus.PENDING, MessageStatus.SENDING)
FINAL_STATUSES = (
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.EXPIRED,
    MessageStatus.CANCELLED,
)


class MessageQuerySet(models.QuerySet):
    """The queries the message indexes are built for, written once."""

    def pending(self, campaign=None) -> MessageQuerySet:
        """The pending messages of one campaign (a Campaign or its id), or of every campaign.

        Its shape is what the partial index `message_pending_due` (campaign, next_attempt_at
        WHERE status = 'pending') serves: the claim, the engine's look-ahead and the
        diagnosis all read through it, so keep the status an equality on "pending" and the
        campaign an equality on its id.
        """
        rows = self.filter(status=MessageStatus.PENDING)
        if campaign is not None:
            rows = rows.filter(campaign_id=getattr(campaign, "pk", campaign))
        return rows

    def due(self, now) -> MessageQuerySet:
        """Those whose next attempt is due at `now` (retry backoff and send window passed)."""
        return self.filter(next_attempt_at__lte=now)

    def waiting(self, now) -> MessageQuerySet:
        """Those whose next attempt is later than `now`."""
        return self.filter(next_attempt_at__gt=now)


class Message(models.Model):
    """One text to one client for one campaign; its id is the msgId sent to the provider."""

    # No index of its own: the composite indexes below all start with the campaign.
    campaign = models.ForeignKey(
        "messaging.Campaign", on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    # Kept (as null) when the client is deleted; the phone stays so statistics keep the row.
    client = models.ForeignKey(
        "messaging.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    phone = models.CharField(max_length=11)
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    # The text actually sent: the campaign's text with the client's merge tags filled in,
    # written by each claim (a retry after an edit of the text carries the new one).
    text = models.TextField(blank=True, default="", db_default="")
    # Not before this time: retry backoff and the client's local send window.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker holds an in-flight message until lease_until; after that it returns to the queue.
    # The token is kept after a cancel so the worker can still record a send that went through.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "client"], name="message_once_per_client"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="message_campaign_status"),
            # The workers' polling query: due pending messages of a campaign
            # (MessageQuerySet.pending(campaign).due(now)).
            models.Index(
                fields=["campaign", "next_attempt_at"],
                name="message_pending_due",
                condition=models.Q(status="pending"),
            ),
            # Reclaiming expired leases.
            models.Index(
                fields=["lease_until"],
                name="message_sending_lease",
                condition=models.Q(status="sending"),
            ),
            # A sender renewing its own leases (every few seconds). Without it the renewal
            # walked message_sending_lease, which keeps an entry for every message ever
            # in flight until a VACUUM: 147 ms at 1,000,000 sent (bench/README.md).
            models.Index(
                fields=["lease_token"],
                name="message_sending_token",
                condition=models.Q(status="sending"),
            ),
        ]

    def __str__(self) -> str:
        return f"Message #{self.pk} to {self.phone}"

    @property
    def phone_number(self) -> int:
        return int(self.phone)


# Claims and records name their messages by id, hundreds at a time (idlists.py).
Message._meta.get_field("id").register_lookup(Among)


class AttemptOutcome(models.TextChoices):
    OK = "ok", _("Accepted")
    TIMEOUT = "timeout", _("Timed out")
    CONNECTION_ERROR = "connection_error", _("Connection error")
    HTTP_ERROR = "http_error", _("HTTP error")
    BAD_RESPONSE = "bad_response", _("Bad response")
    REJECTED = "rejected", _("Rejected")


class DeliveryAttempt(models.Model):
    """One request to the provider for one message: the per-message ledger."""

    # No index of its own: `attempt_message_started` starts with the message (one index
    # write per request fewer).
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="delivery_attempts", db_index=False
    )
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices)
    response_excerpt = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["message", "started_at"], name="attempt_message_started")]

    def __str__(self) -> str:
        return f"Attempt on message #{self.message_id}: {self.outcome}"
