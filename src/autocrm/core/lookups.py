"""``field__any_of=[…]``: membership in a long list sent as one parameter.

``field__in=[…]`` compiles one placeholder per value (Django prepares each, the driver parses
each): at a few thousand values — the duplicate check of an import batch — that costs more than
the query. ``any_of`` sends the values as one text parameter: an array literal for
``= ANY(%s::text[])`` on PostgreSQL, a JSON array for ``json_each`` on SQLite; both use the
column's index. Pass a set (or any iterable but a list or tuple, which Django walks value by
value before the lookup sees them). Text and integer columns, primary keys included; not foreign
keys (Django keeps their own set of lookups), and no ``None``.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import CharField, IntegerField, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        integers = isinstance(self.lhs.output_field, IntegerField)  # ids: compared as numbers
        values: list[Any] = [int(v) for v in self.rhs] if integers else [str(v) for v in self.rhs]
        if connection.vendor == "postgresql":
            cast = "bigint[]" if integers else "text[]"
            return f"{lhs} = ANY(%s::{cast})", [*lhs_params, array_literal([str(v) for v in values])]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(values, ensure_ascii=False)]


def array_literal(values: list[str]) -> str:
    """PostgreSQL's text form of a text array: every element quoted, quotes and backslashes escaped."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def register() -> None:
    CharField.register_lookup(AnyOf)
    IntegerField.register_lookup(AnyOf)  # primary keys too (AutoField and BigAutoField are integer fields)
