"""Counters kept beside the messages so statistics never scan every message row.

Every status change of messages goes through `move_messages` (or `add_pending`),
which applies the same change to `CampaignCounts` in the same transaction. The
counters are exact because each UPDATE only touches rows still in the old status
and its row count is what the counters move.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from messaging.models.messages import Message, MessageStatus

COUNT_FIELDS = {
    MessageStatus.PENDING: "pending",
    MessageStatus.SENDING: "sending",
    MessageStatus.SENT: "sent",
    MessageStatus.FAILED: "failed",
    MessageStatus.EXPIRED: "expired",
    MessageStatus.CANCELLED: "cancelled",
}


class CampaignCounts(models.Model):
    """Messages of one campaign by status (kept apart from Campaign so edits never clobber it)."""

    campaign = models.OneToOneField(
        "messaging.Campaign", primary_key=True, on_delete=models.CASCADE, related_name="counts"
    )
    pending = models.BigIntegerField(default=0)
    sending = models.BigIntegerField(default=0)
    sent = models.BigIntegerField(default=0)
    failed = models.BigIntegerField(default=0)
    expired = models.BigIntegerField(default=0)
    cancelled = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "campaign counts"

    def __str__(self) -> str:
        return f"Counts of campaign #{self.campaign_id}"

    @property
    def total(self) -> int:
        return sum(getattr(self, f) for f in COUNT_FIELDS.values())

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.expired + self.cancelled

    def as_dict(self) -> dict[str, int]:
        return {status.value: getattr(self, field) for status, field in COUNT_FIELDS.items()}


class SendBucket(models.Model):
    """Messages sent and failed per campaign per minute: the send rate and the hourly chart."""

    campaign = models.ForeignKey("messaging.Campaign", on_delete=models.CASCADE)
    minute = models.DateTimeField()
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "minute"], name="sendbucket_once"),
        ]
        indexes = [models.Index(fields=["minute"], name="sendbucket_minute")]

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.minute:%H:%M}"


def adjust_counts(campaign_id: int, changes: dict[str, int]) -> None:
    """Apply counted moves (status -> delta) made by the caller's own conditional UPDATEs."""
    _adjust(campaign_id, {COUNT_FIELDS[MessageStatus(s)]: n for s, n in changes.items()})


def _adjust(campaign_id: int, changes: dict[str, int]) -> None:
    updates = {field: F(field) + delta for field, delta in changes.items() if delta}
    if updates:
        CampaignCounts.objects.filter(campaign_id=campaign_id).update(**updates)


def add_pending(campaign_id: int, count: int) -> None:
    """Count messages just created as pending."""
    _adjust(campaign_id, {"pending": count})


def move_messages(queryset, from_statuses: Iterable[str], to_status: str, **fields) -> int:
    """Move the messages of `queryset` that are in one of `from_statuses` to `to_status`.

    Returns how many moved. Extra `fields` are written on the moved rows too.
    """
    moved = 0
    to_field = COUNT_FIELDS[MessageStatus(to_status)]
    with transaction.atomic():
        campaign_ids = list(queryset.order_by().values_list("campaign_id", flat=True).distinct())
        for campaign_id in campaign_ids:
            for from_status in from_statuses:
                if from_status == to_status:
                    continue
                n = (
                    queryset.filter(campaign_id=campaign_id, status=from_status)
                    .order_by()
                    .update(status=to_status, **fields)
                )
                if n:
                    _adjust(
                        campaign_id,
                        {COUNT_FIELDS[MessageStatus(from_status)]: -n, to_field: n},
                    )
                    moved += n
    return moved


def record_sends(campaign_id: int, *, sent: int = 0, failed: int = 0, at=None) -> None:
    """Add to this minute's bucket of sent and failed messages."""
    if not (sent or failed):
        return
    minute = (at or timezone.now()).replace(second=0, microsecond=0)
    updated = SendBucket.objects.filter(campaign_id=campaign_id, minute=minute).update(
        sent=F("sent") + sent, failed=F("failed") + failed
    )
    if not updated:
        _, created = SendBucket.objects.get_or_create(
            campaign_id=campaign_id, minute=minute, defaults={"sent": sent, "failed": failed}
        )
        if not created:
            SendBucket.objects.filter(campaign_id=campaign_id, minute=minute).update(
                sent=F("sent") + sent, failed=F("failed") + failed
            )


def recount(campaign_id: int) -> CampaignCounts:
    """Rebuild one campaign's counters from its messages (repair and verification)."""
    rows = (
        Message.objects.filter(campaign_id=campaign_id)
        .order_by()
        .values("status")
        .annotate(n=models.Count("id"))
    )
    values = dict.fromkeys(COUNT_FIELDS.values(), 0)
    for row in rows:
        values[COUNT_FIELDS[MessageStatus(row["status"])]] = row["n"]
    counts, _ = CampaignCounts.objects.update_or_create(campaign_id=campaign_id, defaults=values)
    return counts
