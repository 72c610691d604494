"""The pump slots: ENGINE_PUMPS senders at most, each holding a slot with a heartbeat.

`engine/tasks.ensure_pumps` queues a pump task for every slot whose heartbeat is stale,
so starting work never waits for the scheduler and a pump lost with a killed worker is
replaced; the pump takes its slot here and gives it back when its sender stops.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from messaging.models import PumpSlot

SLOT_STALE = timedelta(seconds=10)
# A queued pump that has not started after this long is queued again.
ENQUEUE_GRACE = timedelta(seconds=15)


def claim_slot(slot: int) -> uuid.UUID | None:
    """Take the slot for this task unless a live pump holds it."""
    now = timezone.now()
    token = uuid.uuid4()
    PumpSlot.objects.get_or_create(slot=slot)
    taken = PumpSlot.objects.filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - SLOT_STALE), slot=slot
    ).update(token=token, heartbeat_at=now, enqueued_at=None)
    return token if taken else None


def release_slot(slot: int, token: uuid.UUID) -> None:
    PumpSlot.objects.filter(slot=slot, token=token).update(token=None, heartbeat_at=None)
