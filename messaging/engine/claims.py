"""Claiming due messages for one sender, and giving back what it will not send.

A claim is one transaction per campaign that takes the campaign's lock first (the
gateway's order), reads the campaign as it is now, and moves due messages to
`sending` with this sender's lease. Reading the campaign under its lock is what
makes an edit apply to every claim that starts after the edit commits: an edit
holds the same lock, so a claim sees either the old campaign and finishes before
the edit (whose rescheduling then sees the claim's work) or the new one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings

from messaging.engine.outcomes import Job
from messaging.engine.windows import next_send_time
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.models.counters import status_changes

log = logging.getLogger(__name__)

WINDOW_CLOSED_TO_THE_END = "The client's send window does not open again before the end"


def request_seconds() -> float:
    """The longest a request to the provider can take (its timeouts), with room to spare."""
    return settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT + 20


def lease_seconds() -> float:
    """How long a claim holds a message after its sender last renewed it (every few
    seconds, and first thing when the database answers again after an outage).

    Longer than any request, and than the longest database outage a live sender rides
    out holding its results (ENGINE_OUTAGE_SECONDS): reclaim never takes a message
    from a sender that is alive and about to record it. The price: the messages of a
    worker that died go again this long after its last renewal.
    """
    return request_seconds() + settings.ENGINE_OUTAGE_SECONDS


def claim(campaign_id: int, *, token: uuid.UUID, now: datetime, limit: int) -> list[Job]:
    """Up to `limit` due messages of a running campaign, most overdue first.

    Messages whose client is outside the send window are not claimed: they wait for
    the window's next opening, or expire if it comes after the end.
    """
    with status_changes([campaign_id]) as changes:
        campaign = (
            Campaign.objects.filter(pk=campaign_id)
            .values("status", "text", "end_at", "send_window_start", "send_window_end")
            .first()
        )
        if campaign is None or campaign["status"] != CampaignStatus.RUNNING:
            return []
        end_at = campaign["end_at"]
        if end_at <= now:
            return []
        rows = list(
            Message.objects.filter(
                campaign_id=campaign_id, status=MessageStatus.PENDING, next_attempt_at__lte=now
            )
            # Most overdue first, in the order of the partial index of due messages.
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", "phone", "client_id", "client__timezone", "attempts")[:limit]
        )
        if not rows:
            return []
        start, end = campaign["send_window_start"], campaign["send_window_end"]
        ready, waiting, closed = [], {}, []
        for row in rows:
            opening = next_send_time(now, row[3] or "UTC", start, end)
            if opening <= now:
                ready.append(row)
            elif opening >= end_at:
                closed.append(row[0])
            else:
                waiting.setdefault(opening, []).append(row[0])
        for opening, ids in waiting.items():
            # Not a change of status: the message just waits for its window.
            Message.objects.filter(id__in=ids, status=MessageStatus.PENDING).update(
                next_attempt_at=opening
            )
            log.debug(
                "messages wait for send window campaign_id=%s count=%d until=%s",
                campaign_id,
                len(ids),
                opening.isoformat(),
            )
        if closed:
            changes.move(
                Message.objects.filter(id__in=closed),
                [MessageStatus.PENDING],
                MessageStatus.EXPIRED,
                last_error=WINDOW_CLOSED_TO_THE_END,
            )
        if not ready:
            return []
        changes.move(
            Message.objects.filter(id__in=[row[0] for row in ready]),
            [MessageStatus.PENDING],
            MessageStatus.SENDING,
            lease_token=token,
            lease_until=now + timedelta(seconds=lease_seconds()),
        )
    # Every selected row was pending and locked by us (rows locked elsewhere were skipped).
    text = campaign["text"]
    return [
        Job(message_id, campaign_id, phone, client_id, attempts, text, end_at)
        for message_id, phone, client_id, _tz, attempts in ready
    ]


def release(jobs: Iterable[Job], *, token: uuid.UUID) -> int:
    """Give claimed but unsent messages back to the queue, untouched (no attempt counted)."""
    by_campaign: dict[int, list[int]] = {}
    for job in jobs:
        by_campaign.setdefault(job.campaign_id, []).append(job.message_id)
    if not by_campaign:
        return 0
    with status_changes(by_campaign) as changes:
        return sum(
            changes.move(
                Message.objects.filter(id__in=ids, lease_token=token),
                [MessageStatus.SENDING],
                MessageStatus.PENDING,
                campaign_id=campaign_id,
                lease_token=None,
                lease_until=None,
            )
            for campaign_id, ids in by_campaign.items()
            if campaign_id in changes.campaign_ids
        )


def renew_leases(*, token: uuid.UUID, now: datetime) -> int:
    """A live sender keeps its messages: nobody reclaims them while it still works on them."""
    return Message.objects.filter(lease_token=token, status=MessageStatus.SENDING).update(
        lease_until=now + timedelta(seconds=lease_seconds())
    )
