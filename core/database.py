"""What the database itself knows: PostgreSQL's estimate of a table's rows, and ANALYZE
after a bulk load so the planner and the estimate catch up."""

from __future__ import annotations

from django.db import connection

# From this many clients on, PostgreSQL's own estimate stands for the count (shown as
# "about"): counting a million rows reads the whole table (no index-only scan until a
# VACUUM has set the visibility map) and cost the dashboard 80 ms at 1,000,000 clients.
ESTIMATE_FROM = 100_000


def table_estimate(model) -> int | None:
    """PostgreSQL's estimate of a table's rows, as its planner makes it: the rows per page
    of the last ANALYZE or VACUUM times the pages the table has now. None on SQLite and
    before the table was ever analysed."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples, relpages, "
            "pg_relation_size(oid) / current_setting('block_size')::int "
            "FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    if row is None or row[0] < 0 or row[1] <= 0:
        return None
    tuples, pages_then, pages_now = row
    return int(tuples / pages_then * pages_now)


def analyse_after_bulk_load(model, rows: int) -> None:
    """Statistics for a table that just grew by `rows` (an import): the planner's and
    table_estimate's. Autovacuum does it too, but may be off or a minute away."""
    if connection.vendor == "postgresql" and rows >= ESTIMATE_FROM // 10:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
