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
        assert sum(f"({column})" in d for d in defs) == 1, column  # exactly one plain btree
    assert not [
        d for d in defs if "mobile_index varchar_pattern_ops" in d or "id_number_index varchar_pattern_ops" in d
    ]
    assert not [d for d in defs if d.endswith("(store_id)")]  # every index already leads with the store
    for name in (
        "customer_store_initials_like",
        "customer_store_pinyin_like",
        "customer_name_trgm",
        "customer_name_chars",
    ):
        assert name in indexes
    assert "WHERE (merged_into_id IS NOT NULL)" in indexes["customer_merged_into_set"]
