"""Writing a batch of checked import rows: one INSERT ... ON CONFLICT (phone) DO UPDATE.

Going around the ORM's per-object work makes a 100,000-row import several times faster.
PostgreSQL takes the columns as arrays (unnest), SQLite a VALUES list (9 parameters a
row: 9,000 a statement, inside SQLite's limit of 32,766).

A column the file does not have is left as it is on a client that exists (a file of phones
and tags does not reset anyone's time zone); a new client gets the default. Consent is only
ever added: a client who has one keeps it (and where it was given), whatever the file says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from django.db import connection

from messaging.models import Client

# Rows per statement.
UPSERT_BATCH = 1000

# The columns written, in order, and the file's fields each one follows on an update.
_COLUMNS = (
    "phone",
    "operator_code",
    "tag",
    "tag_key",
    "timezone",
    "name",
    "attributes",
    "consent_at",
    "consent_source",
)
_OPTIONAL = {"name": "name", "consent_at": "consent", "consent_source": "consent"}
_FOLLOWS = {
    "operator_code": "operator_code",
    "tag": "tag",
    "tag_key": "tag",
    "timezone": "timezone",
    "name": "name",
}


class Record(NamedTuple):
    phone: str
    operator_code: str
    tag: str
    tag_key: str
    timezone: str
    name: str
    attributes: str  # JSON
    consent_at: datetime | None
    consent_source: str


def existing_attributes(phones: list[str]) -> dict[str, dict]:
    """The custom fields of the clients among `phones` that have some, locked for the
    import's transaction on PostgreSQL (the import merges into them)."""
    table = Client._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT phone, attributes FROM {table} "  # noqa: S608 (table from the model)
                "WHERE phone = ANY(%s) AND attributes <> '{}'::jsonb FOR UPDATE",
                [phones],
            )
        else:
            cursor.execute(
                f"SELECT phone, attributes FROM {table} "  # noqa: S608 (table from the model)
                f"WHERE phone IN ({', '.join(['%s'] * len(phones))}) AND attributes <> '{{}}'",
                phones,
            )
        return {
            phone: value if isinstance(value, dict) else json.loads(value)
            for phone, value in cursor.fetchall()
        }


def _moment(value: datetime | None) -> str | None:
    """A moment as the statement takes it: text PostgreSQL casts, or SQLite's own text."""
    if value is None:
        return None
    if connection.vendor == "postgresql":
        return value.isoformat()
    return connection.ops.adapt_datetimefield_value(value)


class Upsert:
    """The statement for one import. Which columns it writes depends on the file: a name or
    custom fields only when the file has them (a new client gets the columns' database
    defaults, "" and {}), and an update changes only the columns the file has."""

    def __init__(self, *, fields: Iterable[str], attributes: bool, stamp) -> None:
        fields = set(fields)
        self.columns = [
            i
            for i, column in enumerate(_COLUMNS)
            if (column not in _OPTIONAL and column != "attributes")
            or _OPTIONAL.get(column) in fields
            or (column == "attributes" and attributes)
        ]
        names = [_COLUMNS[i] for i in self.columns]
        self.consent_at = names.index("consent_at") if "consent_at" in names else None
        table = Client._meta.db_table
        updated = [f"{column} = excluded.{column}" for column, f in _FOLLOWS.items() if f in fields]
        if attributes:
            updated.append("attributes = excluded.attributes")
        if "consent" in fields:  # only ever added: the first consent given is kept
            updated += [
                f"consent_source = CASE WHEN {table}.consent_at IS NULL "
                f"AND excluded.consent_at IS NOT NULL THEN excluded.consent_source "
                f"ELSE {table}.consent_source END",
                f"consent_at = COALESCE({table}.consent_at, excluded.consent_at)",
            ]
        self.stamp = stamp
        self.insert = f"({', '.join(names)}, created_at, updated_at)"
        self.conflict = " ON CONFLICT (phone) DO UPDATE SET " + ", ".join(
            [*updated, "updated_at = excluded.updated_at"]
        )
        # PostgreSQL: one text array a column, each cast to the column's type.
        casts = {"attributes": "::jsonb", "consent_at": "::timestamptz"}
        aliases = [f"c{i}" for i in range(len(names))]
        self.selected = ", ".join(
            f"{alias}{casts.get(name, '')}" for alias, name in zip(aliases, names, strict=True)
        )
        self.arrays = ", ".join(["%s::text[]"] * len(names))
        self.aliases = ", ".join(aliases)
        self.row = "(" + ", ".join(["%s"] * (len(names) + 2)) + ")"

    def write(self, records: list[Record]) -> int:
        """Insert or update every record (distinct phones); returns how many are new."""
        table = Client._meta.db_table
        rows = [[record[i] for i in self.columns] for record in records]
        if self.consent_at is not None:
            for row, record in zip(rows, records, strict=True):
                row[self.consent_at] = _moment(record.consent_at)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                arrays = [list(column) for column in zip(*rows, strict=True)]
                cursor.execute(
                    f"INSERT INTO {table} {self.insert} "  # noqa: S608 (table from the model)
                    f"SELECT {self.selected}, %s, %s FROM unnest({self.arrays}) "
                    f"AS u({self.aliases})"
                    + self.conflict
                    # xmax is 0 on a row this statement inserted, not on one it updated.
                    + " RETURNING (xmax = 0)",
                    [self.stamp, self.stamp, *arrays],
                )
                return sum(1 for (inserted,) in cursor.fetchall() if inserted)
            phones = [record.phone for record in records]
            existing = Client.objects.filter(phone__in=phones).count()
            params: list = []
            for row in rows:
                params += [*row, self.stamp, self.stamp]
            cursor.execute(
                f"INSERT INTO {table} {self.insert} VALUES "  # noqa: S608 (table from the model)
                + ", ".join([self.row] * len(rows))
                + self.conflict,
                params,
            )
            return len(records) - existing
