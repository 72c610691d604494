"""Importing clients from a file: read it as a stream, check every row, upsert by phone.

The file (CSV as any Excel writes it, or XLSX: `reading.py`) is never read into memory
whole: rows are checked as they are read (`importer.py`) and the valid ones upserted a
batch at a time (`upsert.py`) inside one transaction, which is rolled back when an invalid
row rejects the file. Memory stays bounded by the batch, the phones already seen (an int
each, to count a repeat) and the first REPORT_LIMIT rejected rows; every rejected row can
also be written to a CSV (a temporary file) for the caller to hand back.

Which column fills which field comes from the header (`columns.py`), or from the person
importing (`chosen`: the web UI's matching step, the API's `mapping`). A phone that comes
again later in the file is not an error: the last row wins, and the report counts repeats.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction

from core.database import analyse_after_bulk_load
from messaging.campaigns.imports.columns import (
    REPORT_COLUMNS,
    plan_columns,
    positions_of,
    recognise,
)
from messaging.campaigns.imports.errors import ColumnsNotMatched, MalformedFile
from messaging.campaigns.imports.importer import REPORT_LIMIT, Importer, ImportResult, RowError
from messaging.campaigns.imports.reading import MAX_COLUMNS, open_table
from messaging.models import Client, ClientField

log = logging.getLogger(__name__)

# Rows the matching step shows.
PREVIEW_ROWS = 5

SAMPLE_CSV = (
    "phone,operator_code,tag,timezone,name\n"
    "79161234567,,vip,Europe/Moscow,Анна\n"
    "+7 (926) 555-01-02,,new,Екатеринбург,\n"
    "8 903 555 01 03,903,,МСК-1,Oleg\n"
)

__all__ = [
    "REPORT_COLUMNS",
    "REPORT_LIMIT",
    "SAMPLE_CSV",
    "ColumnsNotMatched",
    "ImportResult",
    "MalformedFile",
    "Preview",
    "RowError",
    "import_clients",
    "import_clients_csv",
    "preview_import",
]


def import_clients(
    *,
    data: IO[bytes] | bytes,
    skip_invalid_rows: bool = False,
    rejected_csv: bool = False,
    chosen: dict[int, str] | None = None,
    mapping: dict | None = None,
) -> ImportResult:
    """Upsert clients by phone from a CSV or XLSX file.

    `data` is a binary file (read as a stream) or bytes. Columns are matched by their header,
    or by `chosen` (a target for a column position: see imports.columns), or by `mapping`
    (a target for a header as written; ValidationError on `mapping` when it names a column
    the file does not have or a target that is not a field). A file that cannot
    be read, or whose columns need matching, raises MalformedFile (ColumnsNotMatched). With
    invalid rows nothing is saved unless `skip_invalid_rows` is set, in which case the valid
    rows are. Either way the first REPORT_LIMIT rejected rows are reported with their
    reasons and all are counted; with `rejected_csv` every one of them is also written to
    `result.rejected_csv` (the imported columns plus `line` and `errors`).
    """
    binary = io.BytesIO(data) if isinstance(data, bytes) else data
    with open_table(binary) as table:
        if mapping is not None:
            try:
                chosen = positions_of(table.header, mapping)
            except ValidationError as exc:
                raise ValidationError({"mapping": exc.messages}) from None
        columns = plan_columns(table.header, chosen)
        importer = Importer(table=table, columns=columns, skip_invalid_rows=skip_invalid_rows)
        if rejected_csv:
            importer.keep_rejected_rows()
        with transaction.atomic():
            importer.run()
            result = importer.result
            if result.rejected_count and not skip_invalid_rows:
                transaction.set_rollback(True)
                result.imported, result.created, result.updated = False, 0, 0
            elif columns.attributes:
                # Known merge tags from now on (one tiny write per import, not per row).
                ClientField.remember(name for _position, name in columns.attributes)
    if result.imported:
        analyse_after_bulk_load(Client, result.created)
    if importer.rejected_file is not None:
        importer.rejected_file.seek(0)
        result.rejected_csv = importer.rejected_file
    log.info(
        "clients imported imported=%s created=%d updated=%d repeated=%d rejected=%d",
        result.imported,
        result.created,
        result.updated,
        result.repeated,
        result.rejected_count,
    )
    return result


# The name callers used while the import read only CSV.
import_clients_csv = import_clients


@dataclass
class Preview:
    """The start of a file, for the matching step: its header, what each column is
    recognised as (None: unknown), its first rows, and how it was read."""

    header: list[str]
    recognised: list[str | None]
    rows: list[list[str]]
    read_as: str


def preview_import(*, data: IO[bytes] | bytes, rows: int = PREVIEW_ROWS) -> Preview:
    """The header and the first `rows` rows of a file; MalformedFile if it cannot be read."""
    binary = io.BytesIO(data) if isinstance(data, bytes) else data
    with open_table(binary) as table:
        header = [cell.strip() for cell in table.header]
        while header and not header[-1]:
            header.pop()
        if len(header) > MAX_COLUMNS:
            plan_columns(table.header)  # raises the "too many columns" error
        shown = []
        for _line, values in table.rows:
            if values and any(values):
                shown.append(values[: len(header)])
            if len(shown) >= rows:
                break
        return Preview(
            header=header,
            recognised=[recognise(name) for name in header],
            rows=shown,
            read_as=table.describe(),
        )
