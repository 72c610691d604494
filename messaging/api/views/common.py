"""What several resources' views share: the 400 in the schema, XLSX, the import size limit."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import status
from rest_framework.response import Response

BAD_REQUEST = OpenApiResponse(description="Invalid input: a message per field.")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _import_too_large(size, *, slack: int = 0) -> Response | None:
    """A 413 when `size` (bytes; a header's text or a number) is over the import limit."""
    try:
        size = int(size or 0)
    except ValueError:
        return None
    limit = settings.IMPORT_MAX_BYTES
    if size <= limit + slack:
        return None
    return Response(
        {
            "detail": _(
                "The file is larger than the import limit of %(bytes)s bytes "
                "(%(mib)s MiB, setting IMPORT_MAX_BYTES); split it into smaller files."
            )
            % {"bytes": f"{limit:,}", "mib": f"{limit / 1024 / 1024:.0f}"},
            "max_bytes": limit,
        },
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )
