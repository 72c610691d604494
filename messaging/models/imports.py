from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class RejectedRows(models.Model):
    """Every rejected row of one import made in the web UI, as CSV, for its user to download.

    The upload is gone once the import's page is shown, so the rows are kept here for a
    day (a new import deletes older ones); the API hands them back in its own answer.
    """

    KEEP = timedelta(days=1)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    rows = models.PositiveIntegerField()
    content = models.TextField()

    def __str__(self) -> str:
        return f"{self.rows} rejected rows ({self.created_at:%Y-%m-%d %H:%M})"

    @classmethod
    def keep(cls, *, user, rows: int, content: str) -> RejectedRows:
        cls.objects.filter(created_at__lt=timezone.now() - cls.KEEP).delete()
        return cls.objects.create(user=user, rows=rows, content=content)
