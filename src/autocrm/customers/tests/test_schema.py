"""The customer table's indexes: each one is paid by every insert, so no twins (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.django_db
def test_customer_indexes_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL index definitions")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers_customer'")
        indexes = dict(cursor.fetchall())
    defs = list(indexes.values())
    for column in ("mobile_index", "id_number_index"):
        assert [d for d in defs if f"({column})" in d] == [indexes[f"customer_{column}"]], column  # one index
        assert f"USING hash ({column})" in indexes[f"customer_{column}"]  # exact matches only
    assert not [
        d for d in defs if "mobile_index varchar_pattern_ops" in d or "id_number_index varchar_pattern_ops" in d
    ]
    assert not [d for d in defs if d.endswith("(store_id)")]  # every index already leads with the store
    for name in ("customer_store_initials_like", "customer_store_pinyin_like", "customer_name_chars"):
        assert name in indexes
    # The name's characters serve every name search, exact names included (migration 0005).
    assert "customer_name_trgm" not in indexes and "customer_store_name" not in indexes
    for name, column in (
        ("customer_merged_into_set", "merged_into_id"),
        ("customer_store_consultant_set", "consultant_id"),
    ):
        assert f"WHERE ({column} IS NOT NULL)" in indexes[name]


@pytest.mark.django_db
def test_timeline_is_cheap_to_write():
    """One row per imported customer: no foreign-key checks, one index besides the primary key."""
    from autocrm.customers.models import TimelineEvent

    table = TimelineEvent._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    assert not [name for name, c in constraints.items() if c["foreign_key"]]
    indexes = sorted(tuple(c["columns"]) for c in constraints.values() if c["index"] and not c["primary_key"])
    assert indexes == [("customer_id", "at", "id")]
