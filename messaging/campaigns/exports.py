"""The tables Herald hands out: the clients, and the rejected rows of an import.

Both are written in the import's own columns, so a file exported (or the rejected rows,
corrected) imports back as it is: `phone,operator_code,tag,timezone,name`, the clients'
`consent` (when it was given, in the client's zone) and `consent_source`, then one
`field:<name>` column per custom field. messaging.campaigns.spreadsheets writes them as CSV, as CSV
for Excel or as XLSX.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import QuerySet

from messaging.campaigns.imports.columns import field_target
from messaging.campaigns.imports.reading import MAX_COLUMNS

EXPORT_FIELDS = ("phone", "operator_code", "tag", "timezone", "name")
EXPORT_COLUMNS = (*EXPORT_FIELDS, "consent", "consent_source")
# Custom fields beyond this many would make a file the import refuses (MAX_COLUMNS).
MAX_EXPORTED_FIELDS = MAX_COLUMNS - len(EXPORT_COLUMNS)


def attribute_keys(clients: QuerySet) -> list[str]:
    """The custom fields the `clients` have, sorted: one pass over those that have any."""
    keys: set[str] = set()
    with_fields = clients.exclude(attributes={}).values_list("attributes", flat=True)
    for attributes in with_fields.iterator(chunk_size=2000):
        keys.update(attributes)
    return sorted(keys)[:MAX_EXPORTED_FIELDS]


def client_rows(clients: QuerySet) -> Iterator[list[str]]:
    """The header, then each client (by phone), read a chunk at a time."""
    keys = attribute_keys(clients)
    yield [*EXPORT_COLUMNS, *(field_target(key) for key in keys)]
    rows = clients.order_by("phone").values_list(
        *EXPORT_FIELDS, "consent_at", "consent_source", "attributes"
    )
    for *values, consent_at, source, attributes in rows.iterator(chunk_size=2000):
        consent = _local(consent_at, values[3]) if consent_at else ""
        yield [*values, consent, source, *(attributes.get(key, "") for key in keys)]


def _local(moment: datetime, zone: str) -> str:
    """A moment as the import reads it back: ISO 8601 in the client's zone, to the second."""
    with contextlib.suppress(ValueError, ZoneInfoNotFoundError):  # a zone no longer known
        moment = moment.astimezone(ZoneInfo(zone))
    return moment.isoformat(" ", timespec="seconds")


def stored_rows(text: IO[str]) -> Iterator[list[str]]:
    """Rows kept as plain CSV (an import's rejected rows), read back one at a time."""
    try:
        yield from csv.reader(text)
    finally:
        text.close()
