"""Counters kept beside the messages so statistics never scan every message row.

Every status change of messages goes through `status_changes` (or its shorthand
`move_messages`; `add_pending` counts new messages), which applies the same change
to `CampaignCounts` in the same transaction, after locking the campaigns in id
order. The counters are exact because each UPDATE only touches rows still in the
old status and its row count is what the counters move.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone

from messaging.models.campaigns import Campaign
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


def _adjust(campaign_id: int, changes: dict[str, int]) -> None:
    updates = {field: F(field) + delta for field, delta in changes.items() if delta}
    if updates:
        CampaignCounts.objects.filter(campaign_id=campaign_id).update(**updates)


def add_pending(campaign_id: int, count: int) -> None:
    """Count messages just created as pending (the caller holds the campaign's lock)."""
    _adjust(campaign_id, {"pending": count})


def lock_campaigns(campaign_ids: Iterable[int]) -> list[int]:
    """Lock these campaigns' rows in id order; returns the ids that still exist.

    The first step of every transaction that changes message statuses: with one
    fixed order (campaign rows by id, then their messages, then their counters)
    two transactions can never wait for each other in a circle, whatever campaigns
    they touch. `FOR NO KEY UPDATE` still lets rows that reference a campaign be
    inserted meanwhile. SQLite has no row locks: its one writer lock already
    serialises these transactions.
    """
    ids = sorted(set(campaign_ids))
    if not ids:
        return []
    campaigns = Campaign.objects.filter(id__in=ids).order_by("id")
    if connection.features.has_select_for_update:
        campaigns = campaigns.select_for_update(
            no_key=connection.features.has_select_for_no_key_update
        )
    return list(campaigns.values_list("id", flat=True))


class StatusChanges:
    """Status moves inside one transaction whose campaigns are locked (see `status_changes`).

    Each UPDATE touches only rows still in the old status, and its row count is what
    the counters move, so the counters stay exact by construction.
    """

    def __init__(self, campaign_ids: list[int]) -> None:
        self.campaign_ids = campaign_ids
        self._deltas: dict[int, dict[str, int]] = {}

    def move(
        self,
        queryset,
        from_statuses: Iterable[str],
        to_status: str,
        *,
        campaign_id: int | None = None,
        at_most: int | None = None,
        **fields,
    ) -> int:
        """Move the messages of `queryset` in one of `from_statuses` to `to_status`.

        Only messages of the locked campaigns move (of `campaign_id` if given). Extra
        `fields` are written on the moved rows. Returns how many moved.

        One UPDATE per old status, most likely first: with `at_most` (the number of
        messages the queryset names) the rest are skipped once that many moved, so a
        flush of sent messages that were all in flight is one statement.
        """
        campaign_ids = self.campaign_ids if campaign_id is None else [campaign_id]
        moved = 0
        for cid in campaign_ids:
            self._check_locked(cid)
            for from_status in from_statuses:
                if from_status == to_status:
                    continue
                if at_most is not None and moved >= at_most:
                    break
                n = (
                    queryset.filter(campaign_id=cid, status=from_status)
                    .order_by()
                    .update(status=to_status, **fields)
                )
                moved += self._count(cid, from_status, to_status, n)
        return moved

    def move_listed(
        self,
        campaign_id: int,
        ids: Collection[int],
        from_statuses: Iterable[str],
        to_status: str,
        *,
        held_by=None,
        **fields,
    ) -> int:
        """`move` for messages listed by id, all of `campaign_id` (the engine's claims and
        records, whose ids it read from that campaign's rows). With `held_by` (a sender's
        lease token), only the messages it still holds.

        It locks the listed rows, reads their statuses, and updates each status's rows by
        id alone: the counters are exact because the rows are locked, and the statements
        name no campaign and no status, so PostgreSQL can only find the rows by primary
        key. With a status or campaign condition its planner, estimating from statistics
        older than the campaign, walked a whole index range instead: every message
        pending (70-90 ms per claim with 1,000,000 pending), or every message ever in
        flight, which a partial index keeps until a VACUUM (bench/README.md).
        """
        self._check_locked(campaign_id)
        listed = Message.objects.filter(id__among=set(ids))
        if held_by is not None:
            listed = listed.filter(lease_token=held_by)
        by_status: dict[str, list[int]] = {}
        locked = listed.order_by("id").select_for_update(
            no_key=connection.features.has_select_for_no_key_update
        )
        for message_id, status in locked.values_list("id", "status"):
            by_status.setdefault(status, []).append(message_id)
        moved = 0
        for from_status in from_statuses:
            if from_status == to_status or from_status not in by_status:
                continue
            n = Message.objects.filter(id__among=set(by_status[from_status])).update(
                status=to_status, **fields
            )
            moved += self._count(campaign_id, from_status, to_status, n)
        return moved

    def _check_locked(self, campaign_id: int) -> None:
        if campaign_id not in self.campaign_ids:
            raise ValueError(f"campaign {campaign_id} is not locked by this transaction")

    def _count(self, campaign_id: int, from_status: str, to_status: str, n: int) -> int:
        """Move `n` messages of the campaign's counters from one status to another."""
        if n:
            deltas = self._deltas.setdefault(campaign_id, {})
            from_field = COUNT_FIELDS[MessageStatus(from_status)]
            to_field = COUNT_FIELDS[MessageStatus(to_status)]
            deltas[from_field] = deltas.get(from_field, 0) - n
            deltas[to_field] = deltas.get(to_field, 0) + n
        return n

    def apply_counts(self) -> None:
        for campaign_id, deltas in sorted(self._deltas.items()):
            _adjust(campaign_id, deltas)
        self._deltas.clear()


@contextmanager
def status_changes(campaign_ids: Iterable[int]) -> Iterator[StatusChanges]:
    """The one gateway for moving messages between statuses.

    Opens a transaction, locks the campaigns in id order, yields a `StatusChanges`
    to move messages with, and applies the counters before it commits.
    """
    with transaction.atomic():
        changes = StatusChanges(lock_campaigns(campaign_ids))
        yield changes
        changes.apply_counts()


def move_messages(queryset, from_statuses: Iterable[str], to_status: str, **fields) -> int:
    """Move the messages of `queryset` in one of `from_statuses` to `to_status`, in
    however many campaigns they belong to. Returns how many moved."""
    with transaction.atomic():
        campaign_ids = queryset.order_by().values_list("campaign_id", flat=True).distinct()
        with status_changes(campaign_ids) as changes:
            return changes.move(queryset, from_statuses, to_status, **fields)


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
