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
from django.db.models import Case, CharField, F, TextField, Value, When

from messaging.campaigns import audience, merge
from messaging.campaigns.audience import WINDOW_CLOSED_TO_THE_END
from messaging.campaigns.windows import next_send_time
from messaging.engine.outcomes import Job
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.models.counters import status_changes

log = logging.getLogger(__name__)


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
            .values(
                "status", "text", "end_at", "send_window_start", "send_window_end", "promotional"
            )
            .first()
        )
        if campaign is None or campaign["status"] != CampaignStatus.RUNNING:
            return []
        end_at = campaign["end_at"]
        if end_at <= now:
            return []
        due = Message.objects.pending(campaign_id).due(now)
        due, left_out = _with_left_out(due, campaign_id, campaign["promotional"])
        rows = list(
            # Most overdue first, in the order of the partial index of due messages.
            due.order_by("next_attempt_at")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list(
                "id",
                "phone",
                "client_id",
                "client__timezone",
                "attempts",
                *_personal(campaign["text"]),
            )[:limit]
        )
        if not rows:
            return []
        rows = _cancel_left_out(changes, campaign_id, rows, left_out)
        start, end = campaign["send_window_start"], campaign["send_window_end"]
        ready, closed = [], []
        waiting: dict[datetime, list[int]] = {}
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
                "messages wait for send window count=%d until=%s",
                len(ids),
                opening.isoformat(),
                extra={"campaign_id": campaign_id},
            )
        if closed:
            changes.move_listed(
                campaign_id,
                closed,
                [MessageStatus.PENDING],
                MessageStatus.EXPIRED,
                last_error=WINDOW_CLOSED_TO_THE_END,
            )
        if not ready:
            return []
        texts = _texts(campaign["text"], ready)
        changes.move_listed(
            campaign_id,
            [row[0] for row in ready],
            [MessageStatus.PENDING],
            MessageStatus.SENDING,
            lease_token=token,
            lease_until=now + timedelta(seconds=lease_seconds()),
            text=_text_column(texts),
        )
    # Every selected row was pending and locked by us (rows locked elsewhere were skipped).
    return [
        Job(row[0], campaign_id, row[1], row[2], row[4], texts[row[0]], end_at) for row in ready
    ]


# --- Who may be messaged, and what each one gets (issue 20) -------------------------
# Kept apart from the claim's statement above: the claim reads three more columns and
# writes one, and these helpers do the rest.

# After the claim's own columns: the client's fields the merge tags read, and which rule
# now leaves the client out.
_PERSONAL = ("client__name", "client__attributes", "left_out")


def _personal(text: str) -> tuple:
    """The columns after the claim's own; a text without merge tags reads no name or
    attributes (decoding every client's attributes was a tenth of a claim's time)."""
    if merge.has_tags(text):
        return _PERSONAL
    nothing = Value(None, CharField())
    return (nothing, nothing, "left_out")


def _with_left_out(due, campaign_id: int, promotional: bool):
    """The due messages with `left_out`: which audience rule now leaves the client out."""
    rule = audience.left_out_now(Campaign(pk=campaign_id, promotional=promotional))
    return due.annotate(left_out=rule if rule is not None else Value(None, CharField())), rule


def _cancel_left_out(changes, campaign_id: int, rows: list, rule) -> list:
    """Cancel the messages whose client a rule leaves out now (opted out, stop-listed, no
    consent for a promotional campaign), with the reason; the rest go on."""
    if rule is None:
        return rows
    by_reason: dict[str, list[int]] = {}
    kept = []
    for row in rows:
        if row[7]:
            by_reason.setdefault(row[7], []).append(row[0])
        else:
            kept.append(row)
    for code, ids in by_reason.items():
        changes.move_listed(
            campaign_id,
            ids,
            [MessageStatus.PENDING],
            MessageStatus.CANCELLED,
            last_error=audience.CANCEL_REASONS[code],
        )
        log.info(
            "messages cancelled at claim reason=%s count=%d",
            code,
            len(ids),
            extra={"campaign_id": campaign_id},
        )
    return kept


def _texts(text: str, rows: list) -> dict[int, str]:
    """Each claimed message's text: the campaign's with its client's merge tags filled."""
    if not merge.has_tags(text):
        return {row[0]: text for row in rows}
    return {row[0]: merge.render(text, row[5] or "", row[6] or {}) for row in rows}


def _text_column(texts: dict[int, str]):
    """One UPDATE writes every message's own text (a CASE on the id when they differ)."""
    distinct = set(texts.values())
    if len(distinct) <= 1:
        return Value(distinct.pop() if distinct else "")
    whens = [When(id=message_id, then=Value(text)) for message_id, text in texts.items()]
    return Case(*whens, default=F("text"), output_field=TextField())


def release(jobs: Iterable[Job], *, token: uuid.UUID) -> int:
    """Give claimed but unsent messages back to the queue, untouched (no attempt counted)."""
    by_campaign: dict[int, list[int]] = {}
    for job in jobs:
        by_campaign.setdefault(job.campaign_id, []).append(job.message_id)
    if not by_campaign:
        return 0
    with status_changes(by_campaign) as changes:
        return sum(
            changes.move_listed(
                campaign_id,
                ids,
                [MessageStatus.SENDING],
                MessageStatus.PENDING,
                held_by=token,
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
