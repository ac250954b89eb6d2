"""Query expressions the ORM lacks on every backend we run on."""

from __future__ import annotations

from typing import Any

from django.db.models import F, JSONField, QuerySet, Subquery


class ValueList(Subquery):
    """One column of a correlated queryset (``OuterRef``), as a list in a column of the outer
    row: the tags or other ids of a record read with the record itself, one query instead of
    one more per relation. ``jsonb_agg`` on PostgreSQL, ``json_group_array`` on SQLite; an
    empty list when nothing matches. The order of the list is not defined (sort it)."""

    def __init__(self, queryset: QuerySet[Any], field: str) -> None:
        super().__init__(queryset.order_by().values(value_list_item=F(field)), output_field=JSONField())

    def as_sql(self, compiler: Any, connection: Any, template: str | None = None, **extra: Any) -> tuple[str, Any]:
        sql, params = super().as_sql(compiler, connection, template=template, **extra)  # type: ignore[call-arg]  # Subquery.as_sql takes them; the stubs type BaseExpression's
        if connection.vendor == "postgresql":
            return f"(SELECT COALESCE(jsonb_agg(v.value_list_item), '[]'::jsonb) FROM {sql} v)", params
        return f"(SELECT json_group_array(v.value_list_item) FROM {sql} v)", params
