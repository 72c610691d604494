"""Keep the right number of pump tasks alive in the django-q2 cluster.

Each pump holds a slot with a heartbeat. `ensure_pumps` queues a pump for every
slot whose heartbeat is stale, so starting work never waits for the scheduler
and a pump lost with a killed worker is replaced.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from messaging.models import PumpSlot

log = logging.getLogger(__name__)

SLOT_STALE = timedelta(seconds=10)
# A queued pump that has not started after this long is queued again.
ENQUEUE_GRACE = timedelta(seconds=15)


def ensure_pumps() -> int:
    now = timezone.now()
    queued = 0
    for slot in range(settings.ENGINE_PUMPS):
        PumpSlot.objects.get_or_create(slot=slot)
        takeable = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - SLOT_STALE)
        not_queued = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - ENQUEUE_GRACE)
        if PumpSlot.objects.filter(takeable & not_queued, slot=slot).update(enqueued_at=now):
            async_task("messaging.tasks.pump", slot, task_name=f"pump-{slot}", group="pumps")
            queued += 1
    if queued:
        log.info("queued %d pump task(s)", queued)
    return queued


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
