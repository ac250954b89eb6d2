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
        # Exact matches only; blank values (no mobile, no ID number) are not indexed.
        assert f"USING hash ({column}) WHERE (({column})::text <> ''::text)" in indexes[f"customer_{column}"]
    assert not [
        d for d in defs if "mobile_index varchar_pattern_ops" in d or "id_number_index varchar_pattern_ops" in d
    ]
    assert not [d for d in defs if d.endswith("(store_id)")]  # every index already leads with the store
    for name in ("customer_store_initials_like", "customer_store_pinyin_like", "customer_name_grams"):
        assert name in indexes
    # The name's characters and pairs serve every name search (migrations 0005, 0012).
    assert "customer_name_trgm" not in indexes and "customer_store_name" not in indexes
    assert "customer_name_chars" not in indexes  # the grams hold the characters too
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


@pytest.mark.django_db
def test_an_import_batch_lookup_can_use_the_partial_blind_indexes():
    """An import looks up a batch's blind indexes with one array of a thousand values: PostgreSQL
    must be able to prove the partial (non-blank) hash index applies, or it reads the table."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL plans")
    from autocrm.customers.importing import blind_matches

    for name in ("mobile_index", "id_number_index"):
        query = blind_matches(name, {f"{i:064x}" for i in range(1000)}).values_list("store_id", flat=True)
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert f"customer_{name}" in plan, plan
