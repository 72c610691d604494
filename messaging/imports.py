"""Importing clients from CSV: read the file as a stream, check every row, upsert by phone.

The file is never read into memory whole: rows are checked as they are read and the
valid ones upserted a batch at a time inside one transaction, which is rolled back when
an invalid row rejects the file. Memory stays bounded by the batch, the phones already
seen (to report a repeat) and the first REPORT_LIMIT rejected rows; every rejected row can
also be written to a CSV (a temporary file) for the caller to hand back.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
from dataclasses import dataclass, field
from typing import IO

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.models import Client
from messaging.phones import normalise_phone, phone_error
from messaging.validators import (
    known_timezones,
    operator_code_validator,
    phone_validator,
    tag_key,
    validate_tag_text,
    validate_timezone,
)

log = logging.getLogger(__name__)

CSV_COLUMNS = ("phone", "operator_code", "tag", "timezone")
REQUIRED_COLUMNS = ("phone", "timezone")
# The rejected-rows CSV adds these two; the import ignores them, so a corrected copy of
# that file imports as it is.
REPORT_COLUMNS = ("line", "errors")
# The JSON report lists at most this many rejected rows (and counts all of them).
REPORT_LIMIT = 1000
# Rows per upsert statement (SQLite: 6,000 parameters, inside its limit).
UPSERT_BATCH = 1000

SAMPLE_CSV = (
    "phone,operator_code,tag,timezone\n"
    "79161234567,,vip,Europe/Moscow\n"
    "+7 (926) 555-01-02,,new,Asia/Yekaterinburg\n"
    "8 903 555 01 03,903,,Europe/Kaliningrad\n"
)

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): the
# export puts an apostrophe before such a value, and the import takes it off again.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def from_spreadsheet_safe(value: str) -> str:
    """Undo `spreadsheet_safe`, so an exported file imports back unchanged."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


@dataclass
class RowError:
    line: int
    phone: str
    errors: dict[str, list[str]]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    # The first REPORT_LIMIT rejected rows; rejected_count counts every one.
    rejected: list[RowError] = field(default_factory=list)
    rejected_count: int = 0
    imported: bool = True
    # Every rejected row as CSV (when asked for), positioned at its start.
    rejected_csv: IO[str] | None = None

    @property
    def total_rows(self) -> int:
        return self.created + self.updated + self.rejected_count


class MalformedFile(ValidationError):
    """The file as a whole cannot be read as the expected CSV."""


def _file_error(message: str) -> MalformedFile:
    return MalformedFile({"file": [message]})


@dataclass
class _Header:
    names: list[str]  # as written in the file
    columns: list[str | None]  # our column for each position, None for an ignored one

    @property
    def phone_index(self) -> int:
        return self.columns.index("phone")


def _looks_like_data(cells: list[str]) -> bool:
    zones = known_timezones()
    return any(phone_error(normalise_phone(c)) is None or c.strip() in zones for c in cells)


def _read_header(cells: list[str]) -> _Header:
    names = [c.strip() for c in cells]
    keys = [n.lower() for n in names]
    if len(cells) == 1 and ";" in cells[0]:
        raise _file_error(
            _(
                "The file looks separated by semicolons (;), as some spreadsheets save CSV. "
                "Herald reads commas: save it as “CSV UTF-8 (comma delimited)”, or replace "
                "the semicolons with commas. The first line should be %(header)s."
            )
            % {"header": ",".join(CSV_COLUMNS)}
        )
    if _looks_like_data(names):
        raise _file_error(
            _(
                "The first line looks like a client, not a header. Add the line "
                "%(header)s at the top of the file (the sample shows the format)."
            )
            % {"header": ",".join(CSV_COLUMNS)}
        )
    missing = [c for c in CSV_COLUMNS if c not in keys]
    missing_required = [c for c in missing if c in REQUIRED_COLUMNS]
    unknown = [n for n, k in zip(names, keys, strict=True) if k not in CSV_COLUMNS + REPORT_COLUMNS]
    repeated = sorted({k for k in keys if keys.count(k) > 1 and k})
    if missing_required or unknown or repeated:
        problems = []
        if missing:
            optional = [c for c in missing if c not in REQUIRED_COLUMNS]
            parts = []
            if missing_required:
                parts.append(_("%(columns)s (required)") % {"columns": ", ".join(missing_required)})
            if optional:
                parts.append(_("%(columns)s (optional)") % {"columns": ", ".join(optional)})
            problems.append(_("missing column(s): %(columns)s") % {"columns": "; ".join(parts)})
        if unknown:
            problems.append(_("unknown column(s): %(columns)s") % {"columns": ", ".join(unknown)})
        if repeated:
            problems.append(_("repeated column(s): %(columns)s") % {"columns": ", ".join(repeated)})
        raise _file_error(
            _("Header must be %(header)s (operator_code and tag may be left out): %(problems)s.")
            % {"header": ",".join(CSV_COLUMNS), "problems": "; ".join(problems)}
        )
    return _Header(names=names, columns=[k if k in CSV_COLUMNS else None for k in keys])


# Each column's rule: the validator the model, the forms and the API use (one wording).
_COLUMN_VALIDATORS = (
    ("phone", phone_validator),
    ("operator_code", operator_code_validator),
    ("tag", validate_tag_text),
    ("timezone", validate_timezone),
)


def _check_row(row: dict[str, str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for column, validate in _COLUMN_VALIDATORS:
        value = row.get(column, "")
        if value or column == "phone":
            try:
                validate(value)
            except ValidationError as exc:
                errors[column] = exc.messages
        elif column == "timezone":
            # The upsert writes every column, so the model's default zone does not apply.
            errors[column] = [_("Time zone is empty; give an IANA name such as Europe/Moscow.")]
        # A blank operator code is taken from the phone, a blank tag is no tag.
    return errors


class _Importer:
    def __init__(self, *, skip_invalid_rows: bool, rejected_csv: bool) -> None:
        self.skip_invalid_rows = skip_invalid_rows
        self.result = ImportResult()
        # Line of each phone accepted so far, keyed by the phone as an int (valid phones are
        # ASCII digits): half the memory of string keys on a 500,000-row file.
        self.first_line: dict[int, int] = {}
        self.batch: list[tuple[str, str, str, str]] = []
        self.stamp = connection.ops.adapt_datetimefield_value(timezone.now())
        self.rejected_file: IO[str] | None = None
        self.rejected_writer = None
        if rejected_csv:
            # Kept in memory up to 1 MiB, then on disk.
            self.rejected_file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (returned)
                max_size=1024 * 1024, mode="w+", newline="", encoding="utf-8"
            )
            self.rejected_writer = csv.writer(self.rejected_file)

    @property
    def saving(self) -> bool:
        """Whether valid rows are still worth writing (not once the file is refused)."""
        return self.skip_invalid_rows or not self.result.rejected_count

    def start_report(self, header: _Header) -> None:
        if self.rejected_writer:
            names = [n for n, c in zip(header.names, header.columns, strict=True) if c]
            self.report_columns = [c for c in header.columns if c]
            self.rejected_writer.writerow([*names, *REPORT_COLUMNS])

    def reject(self, line: int, phone: str, errors: dict, values: dict[str, str]) -> None:
        self.result.rejected_count += 1
        if len(self.result.rejected) < REPORT_LIMIT:
            self.result.rejected.append(RowError(line=line, phone=phone, errors=errors))
        if self.rejected_writer:
            reasons = "; ".join(
                (msg if key == "row" else f"{key}: {msg}")
                for key, msgs in errors.items()
                for msg in msgs
            )
            cells = [spreadsheet_safe(values.get(c, "")) for c in self.report_columns]
            self.rejected_writer.writerow([*cells, line, reasons])

    def accept(self, line: int, row: dict[str, str]) -> None:
        phone = row["phone"]
        self.first_line[int(phone)] = line
        if not self.saving:
            return
        code = row.get("operator_code") or Client.default_operator_code(phone)
        self.batch.append((phone, code, row.get("tag", ""), row["timezone"]))
        if len(self.batch) >= UPSERT_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch and self.saving:
            created = _upsert_clients(self.batch, self.stamp)
            self.result.created += created
            self.result.updated += len(self.batch) - created
        self.batch = []

    def run(self, text: IO[str]) -> None:
        reader = csv.reader(text, strict=True)
        try:
            try:
                header = _read_header(next(reader))
            except StopIteration:
                raise _file_error(_("The file is empty.")) from None
            self.start_report(header)
            width = len(header.columns)
            pairs = [(i, c) for i, c in enumerate(header.columns) if c]
            phone_at = header.phone_index
            for values in reader:
                if not values or not any(v.strip() for v in values):
                    continue
                self.row(reader.line_num, values, width, pairs, phone_at)
        except csv.Error as exc:
            raise _file_error(
                _("Line %(line)s: %(error)s") % {"line": reader.line_num, "error": exc}
            ) from None
        except UnicodeDecodeError:
            raise _file_error(
                _("The file is not UTF-8 text (line %(line)s has other bytes).")
                % {"line": reader.line_num + 1}
            ) from None
        self.flush()

    def row(self, line: int, values: list[str], width: int, pairs, phone_at: int) -> None:
        row = {c: from_spreadsheet_safe(values[i].strip()) for i, c in pairs if i < len(values)}
        raw_phone = row.get("phone", "")
        phone = normalise_phone(raw_phone)
        if len(values) != width:
            shown = phone if phone_error(phone) is None else raw_phone
            self.reject(
                line,
                shown,
                {
                    "row": [
                        _("Expected %(expected)s values, found %(found)s.")
                        % {"expected": width, "found": len(values)}
                    ]
                },
                row,
            )
            return
        row["phone"] = phone
        errors = _check_row(row)
        first = None if errors else self.first_line.get(int(phone))
        if first is not None:
            errors = {
                "phone": [_("Phone repeated; first seen on line %(line)s.") % {"line": first}]
            }
        if errors:
            self.reject(line, phone if "phone" not in errors else raw_phone, errors, row)
            return
        self.accept(line, row)


def import_clients_csv(
    *, data: IO[bytes] | bytes, skip_invalid_rows: bool = False, rejected_csv: bool = False
) -> ImportResult:
    """Upsert clients by phone from CSV (`phone,operator_code,tag,timezone`).

    `data` is a binary file (read as a stream) or bytes. A malformed file raises
    MalformedFile. With invalid rows nothing is saved unless `skip_invalid_rows` is set, in
    which case the valid rows are.
    Either way the first REPORT_LIMIT rejected rows are reported with their reasons and
    all are counted; with `rejected_csv` every one of them is also written to
    `result.rejected_csv` (the file's columns plus `line` and `errors`).
    """
    binary = io.BytesIO(data) if isinstance(data, bytes) else data
    importer = _Importer(skip_invalid_rows=skip_invalid_rows, rejected_csv=rejected_csv)
    # utf-8-sig drops a spreadsheet's byte-order mark; decoding goes chunk by chunk.
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        with transaction.atomic():
            importer.run(text)
            result = importer.result
            if result.rejected_count and not skip_invalid_rows:
                transaction.set_rollback(True)
                result.imported, result.created, result.updated = False, 0, 0
    finally:
        text.detach()  # the caller's file stays open
    if importer.rejected_file is not None:
        importer.rejected_file.seek(0)
        result.rejected_csv = importer.rejected_file
    log.info(
        "clients imported imported=%s created=%d updated=%d rejected=%d",
        result.imported,
        result.created,
        result.updated,
        result.rejected_count,
    )
    return result


UPSERT_CONFLICT = (
    " ON CONFLICT (phone) DO UPDATE SET operator_code = excluded.operator_code, "
    "tag = excluded.tag, tag_key = excluded.tag_key, timezone = excluded.timezone, "
    "updated_at = excluded.updated_at"
)


def _upsert_clients(rows: list[tuple[str, str, str, str]], stamp) -> int:
    """INSERT ... ON CONFLICT (phone) DO UPDATE in one statement; returns how many are new.

    Rows were validated above and hold distinct phones; going around the ORM's per-object
    work makes a 100,000-row import several times faster. PostgreSQL takes the columns as
    four arrays (unnest), SQLite a VALUES list.
    """
    table = Client._meta.db_table
    columns = "(phone, operator_code, tag, tag_key, timezone, created_at, updated_at)"
    # Raw SQL skips Client.tag_key's pre_save: the matching key is written here.
    rows = [(phone, code, tag, tag_key(tag), zone) for phone, code, tag, zone in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            phones, codes, tags, keys, zones = (list(col) for col in zip(*rows, strict=True))
            cursor.execute(
                f"INSERT INTO {table} {columns} "  # noqa: S608 (table from the model)
                "SELECT p, o, t, k, z, %s, %s FROM unnest(%s::text[], %s::text[], %s::text[], "
                "%s::text[], %s::text[]) AS u(p, o, t, k, z)"
                + UPSERT_CONFLICT
                +
                # xmax is 0 on a row this statement inserted, not on one it updated.
                " RETURNING (xmax = 0)",
                [stamp, stamp, phones, codes, tags, keys, zones],
            )
            return sum(1 for (inserted,) in cursor.fetchall() if inserted)
        existing = Client.objects.filter(phone__in=[row[0] for row in rows]).count()
        params: list = []
        for row in rows:
            params += [*row, stamp, stamp]
        cursor.execute(
            f"INSERT INTO {table} {columns} VALUES "  # noqa: S608 (table from the model)
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
            + UPSERT_CONFLICT,
            params,
        )
        return len(rows) - existing
