"""The import's row-by-row work: check each row, count repeats, upsert in batches, report."""

from __future__ import annotations

import csv
import json
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging.campaigns.imports.columns import REPORT_COLUMNS, Columns
from messaging.campaigns.imports.consent import parse_consent
from messaging.campaigns.imports.reading import Table
from messaging.campaigns.imports.upsert import UPSERT_BATCH, Record, Upsert, existing_attributes
from messaging.campaigns.phones import normalise_phone, phone_error
from messaging.campaigns.spreadsheets import from_spreadsheet_safe
from messaging.campaigns.timezones import resolve_timezone
from messaging.campaigns.validators import (
    ATTRIBUTES_MAX_KEYS,
    NAME_MAX_LENGTH,
    operator_code_validator,
    tag_key,
    validate_attribute_value,
    validate_tag_text,
)
from messaging.models import Client

CONSENT_SOURCE_MAX_LENGTH = Client._meta.get_field("consent_source").max_length or 200

# The JSON report lists at most this many rejected rows (and counts all of them).
REPORT_LIMIT = 1000

# 7.91612E+10 or 7,91612E+10: a number Excel showed in scientific notation and saved so.
_SCIENTIFIC = re.compile(r"^[0-9]+(?:[.,][0-9]+)?[eE][+]?[0-9]+\Z")
SCIENTIFIC_MESSAGE = gettext_lazy(
    "Excel wrote this number in scientific notation and its last digits are lost; format the "
    "column as text in Excel and save the file again."
)


# Error keys whose messages name what they are about ("79 is not a phone number...").
SELF_EXPLAINED = frozenset(
    {"row", "phone", "operator_code", "tag", "timezone", "name", "consent", "consent_source"}
)


@dataclass
class RowError:
    line: int
    phone: str
    errors: dict[str, list[str]]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    # Rows whose phone came again later in the file (the later row was imported instead).
    repeated: int = 0
    # The first REPORT_LIMIT rejected rows; rejected_count counts every one.
    rejected: list[RowError] = field(default_factory=list)
    rejected_count: int = 0
    imported: bool = True
    # How the file was read ("CSV, Windows-1251, separated by «;»").
    read_as: str = ""
    # Every rejected row as CSV (when asked for; cells as read, not yet made safe for a
    # spreadsheet), positioned at its start.
    rejected_csv: IO[str] | None = None

    @property
    def total_rows(self) -> int:
        return self.created + self.updated + self.repeated + self.rejected_count


class Importer:
    """Checks a file's rows as they are read and upserts the valid ones a batch at a time."""

    def __init__(self, *, table: Table, columns: Columns, skip_invalid_rows: bool) -> None:
        self.table = table
        self.columns = columns
        self.skip_invalid_rows = skip_invalid_rows
        self.result = ImportResult(read_as=table.describe())
        self.fields = columns.fields
        self.attribute_columns = columns.attributes
        self.present = columns.present
        self.default_zone = settings.CLIENT_DEFAULT_TIMEZONE
        self.width = len(table.header)
        self.phone_at = next(i for i, target in self.fields if target == "phone")
        # Every valid phone so far, as an int (valid phones are ASCII digits): a repeat is
        # found without keeping the rows, at about 60 bytes a phone.
        self.seen: set[int] = set()
        # This batch, by phone: (line, record, cells, written by an earlier batch). A repeat
        # within the batch replaces the earlier row.
        self.batch: dict[str, tuple[int, Record, list[str], bool]] = {}
        self.now = timezone.now()
        self.upsert = Upsert(
            fields=self.present,
            attributes=bool(self.attribute_columns),
            stamp=connection.ops.adapt_datetimefield_value(self.now),
        )
        # Where consent given by this file came from, unless a column says.
        self.consent_source = _("import of %(date)s") % {"date": self.now.date().isoformat()}
        self.rejected_file: IO[str] | None = None
        self.rejected_writer: Any = None  # a csv writer once rows are rejected

    def keep_rejected_rows(self) -> None:
        # In memory up to 1 MiB, then on disk.
        self.rejected_file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (returned)
            max_size=1024 * 1024, mode="w+", newline="", encoding="utf-8"
        )
        self.rejected_writer = csv.writer(self.rejected_file)
        self.report_columns = self.columns.report_header()
        names = [name for _position, name in self.report_columns]
        self.rejected_writer.writerow([*names, *REPORT_COLUMNS])

    @property
    def saving(self) -> bool:
        """Whether valid rows are still worth writing (not once the file is refused)."""
        return self.skip_invalid_rows or not self.result.rejected_count

    def reject(self, line: int, phone: str, errors: dict, values: list[str]) -> None:
        self.result.rejected_count += 1
        if len(self.result.rejected) < REPORT_LIMIT:
            self.result.rejected.append(RowError(line=line, phone=phone, errors=errors))
        if self.rejected_writer:
            # Messages about a column of Herald's own say which it is themselves; a custom
            # field's name goes before its message. str(): messages may be lazy translations.
            reasons = "; ".join(
                str(msg) if key in SELF_EXPLAINED else f"{key}: {msg}"
                for key, msgs in errors.items()
                for msg in msgs
            )
            cells = [values[i] if i < len(values) else "" for i, _name in self.report_columns]
            self.rejected_writer.writerow([*cells, line, reasons])

    def run(self) -> None:
        for line, values in self.table.rows:
            if values and any(values):
                self.row(line, values)
        self.flush()

    def row(self, line: int, values: list[str]) -> None:
        width = self.width
        if len(values) != width:
            if len(values) > width and not any(v.strip() for v in values[width:]):
                values = values[:width]  # empty cells after the last column
            elif len(values) < width and not self.table.strict_width:
                values = values + [""] * (width - len(values))
            else:
                self.reject_width(line, values)
                return
        cells = {f: from_spreadsheet_safe(values[i].strip()) for i, f in self.fields}
        record, errors = self.check(cells, values)
        if errors:
            shown = cells["phone"] if "phone" in errors else record.phone
            self.reject(line, shown, errors, values)
            return
        self.accept(line, record, values)

    def reject_width(self, line: int, values: list[str]) -> None:
        raw = values[self.phone_at].strip() if self.phone_at < len(values) else ""
        phone = normalise_phone(raw)
        expected = _("Expected %(expected)s values, found %(found)s.") % {
            "expected": self.width,
            "found": len(values),
        }
        shown = phone if phone_error(phone) is None else raw
        self.reject(line, shown, {"row": [expected]}, values)

    def check(self, cells: dict[str, str], values: list[str]) -> tuple[Record, dict]:
        errors: dict[str, list[str]] = {}
        raw_phone = cells["phone"]
        phone = normalise_phone(raw_phone)
        error = phone_error(phone)
        if error:
            errors["phone"] = [str(SCIENTIFIC_MESSAGE) if _SCIENTIFIC.match(raw_phone) else error]
        code = cells.get("operator_code", "")
        if code:
            try:
                operator_code_validator(code)
            except ValidationError as exc:
                errors["operator_code"] = exc.messages
        elif not error:
            code = Client.default_operator_code(phone)
        tag = cells.get("tag", "")
        if tag:
            try:
                validate_tag_text(tag)
            except ValidationError as exc:
                errors["tag"] = exc.messages
        try:
            zone = resolve_timezone(cells.get("timezone", ""), default=self.default_zone)
        except ValidationError as exc:
            errors["timezone"] = exc.messages
            zone = ""
        name = cells.get("name", "")
        if len(name) > NAME_MAX_LENGTH:
            errors["name"] = [
                _("Name must be at most %(max)s characters.") % {"max": NAME_MAX_LENGTH}
            ]
        attributes = "{}"
        if self.attribute_columns:
            patch = {}
            for i, key in self.attribute_columns:
                value = from_spreadsheet_safe(values[i].strip())
                try:
                    validate_attribute_value(key, value)
                except ValidationError as exc:
                    errors[f"field:{key}"] = exc.messages
                patch[key] = value
            attributes = json.dumps(patch)
        consent_at, consent_source = self.consent(cells, zone, errors)
        record = Record(
            phone, code, tag, tag_key(tag), zone, name, attributes, consent_at, consent_source
        )
        return record, errors

    def consent(
        self, cells: dict[str, str], zone: str, errors: dict
    ) -> tuple[datetime | None, str]:
        """When the row says consent was given (None: it does not say so) and where."""
        if "consent" not in self.present:
            return None, ""
        source = cells.get("consent_source", "") or self.consent_source
        if len(source) > CONSENT_SOURCE_MAX_LENGTH:
            errors["consent_source"] = [
                _("Where consent was given must be at most %(max)s characters.")
                % {"max": CONSENT_SOURCE_MAX_LENGTH}
            ]
        try:
            given = parse_consent(
                cells["consent"], now=self.now, zone=ZoneInfo(zone or self.default_zone)
            )
        except ValidationError as exc:
            errors["consent"] = exc.messages
            return None, source
        return given, source if given else ""

    def accept(self, line: int, record: Record, values: list[str]) -> None:
        number = int(record.phone)
        earlier = number in self.seen
        if earlier:
            self.result.repeated += 1
            previous = self.batch.get(record.phone)
            # Within this batch: written by an earlier batch only if the replaced row was.
            earlier = previous[3] if previous else True
        else:
            self.seen.add(number)
        if not self.saving:
            return
        self.batch[record.phone] = (line, record, values, earlier)
        if len(self.batch) >= UPSERT_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch and self.saving:
            entries = list(self.batch.values())
            if self.attribute_columns:
                entries = self.merge_attributes(entries)
            if entries:
                created = self.upsert.write([record for _l, record, _v, _e in entries])
                # A phone an earlier batch wrote is neither new nor an update of a client.
                again = sum(1 for entry in entries if entry[3])
                self.result.created += created
                self.result.updated += len(entries) - created - again
        self.batch = {}

    def merge_attributes(self, entries: list) -> list:
        """The file's custom fields merged into each client's own: an empty cell removes
        that field; a client never ends with more than ATTRIBUTES_MAX_KEYS."""
        existing = existing_attributes([record.phone for _l, record, _v, _e in entries])
        merged_entries = []
        for line, record, values, earlier in entries:
            merged = dict(existing.get(record.phone, {}))
            for key, value in json.loads(record.attributes).items():
                if value:
                    merged[key] = value
                else:
                    merged.pop(key, None)
            if len(merged) > ATTRIBUTES_MAX_KEYS:
                message = _(
                    "The client would have %(count)s custom fields; at most %(max)s. Leave "
                    "some of these cells empty, or remove fields from the client first."
                ) % {"count": len(merged), "max": ATTRIBUTES_MAX_KEYS}
                self.reject(line, record.phone, {"row": [message]}, values)
                continue
            merged_entries.append(
                (line, record._replace(attributes=json.dumps(merged)), values, earlier)
            )
        return merged_entries
