from __future__ import annotations

from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """Last time a worker ran the heartbeat task: the scheduler, the queue and a worker all work.

    django-q2 keeps its own cluster statistics in the cache, which is per process
    with the default cache; this row is visible to every web process instead.
    """

    name = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def beat(cls, name: str = "cluster") -> None:
        cls.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})

    @classmethod
    def last_seen(cls, name: str = "cluster"):
        return cls.objects.filter(name=name).values_list("seen_at", flat=True).first()
