"""`id__among=[...]`: rows named by a list of ids, the list passed as one parameter.

The engine names its messages by id in every claim and record, hundreds at a time. With
`id__in` Django prepares each id as a parameter of its own and the driver binds each
one: compiling such a statement took 0.6 ms for 500 ids, against 0.2 ms with the list
as one value (measured; the statement itself runs as fast either way). PostgreSQL reads
it as an array (`id = ANY(...)`, found by primary key), SQLite as a JSON list
(`json_each`, which its planner turns into rowid lookups).

Pass the ids as a set: Django walks the items of a list or a tuple one by one, looking
for expressions among them, before any lookup sees the value.
"""

from __future__ import annotations

import json

from django.db.models import Lookup


class Among(Lookup):
    lookup_name = "among"
    prepare_rhs = False  # a list of ids, not one value of the field

    def get_prep_lookup(self) -> list[int]:
        # Integers only: the list is handed to the database as one value.
        return sorted(int(value) for value in self.rhs)

    def as_sql(self, compiler, connection):
        # `lhs` is the column as Django quotes it; the ids are always parameters.
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*params, self.rhs]
        if connection.vendor == "sqlite":
            sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608
            return sql, [*params, json.dumps(self.rhs)]
        if not self.rhs:  # any other database: the plain IN list
            return "1 = 0", params
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*params, *self.rhs]
