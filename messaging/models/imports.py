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


class PendingImport(models.Model):
    """A file uploaded in the web UI whose columns a person is matching to client fields.

    Kept in the database (not on one web server's disk) so that any web process can run
    the import once the columns are matched; a day at most, and only for its user. Bounded
    by IMPORT_MAX_BYTES like any upload.
    """

    KEEP = timedelta(days=1)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    file_name = models.CharField(max_length=255)
    content = models.BinaryField()
    skip_invalid_rows = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"

    @classmethod
    def keep(
        cls, *, user, file_name: str, content: bytes, skip_invalid_rows: bool
    ) -> PendingImport:
        cls.objects.filter(created_at__lt=timezone.now() - cls.KEEP).delete()
        return cls.objects.create(
            user=user,
            file_name=file_name[:255],
            content=content,
            skip_invalid_rows=skip_invalid_rows,
        )
