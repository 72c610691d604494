"""Campaigns with messages in known statuses, made straight in the database.

The services would hand a campaign whose window is open to the sending engine;
these tests only need figures, so they bypass it.
"""

from __future__ import annotations

from datetime import datetime

from messaging.models import Campaign, CampaignCounts, Message
from messaging.models.counters import add_pending, move_messages

_phones = iter(range(10_000_000))


def campaign_with_messages(
    *, name: str, start_at: datetime, end_at: datetime, statuses: dict[str, int], status="running"
) -> Campaign:
    campaign = Campaign.objects.create(
        name=name, text="Hello", start_at=start_at, end_at=end_at, status=status
    )
    CampaignCounts.objects.create(campaign=campaign)
    wanted = [s for s, n in statuses.items() for _ in range(n)]
    Message.objects.bulk_create(
        Message(campaign=campaign, phone=f"7900{next(_phones):07d}") for _ in wanted
    )
    add_pending(campaign.pk, len(wanted))
    ids = Message.objects.filter(campaign=campaign).order_by("id").values_list("id", flat=True)
    for message_id, status_ in zip(ids, wanted, strict=True):
        if status_ != "pending":
            move_messages(Message.objects.filter(pk=message_id), ["pending"], status_)
    return campaign
