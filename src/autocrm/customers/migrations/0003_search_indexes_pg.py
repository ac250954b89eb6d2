"""PostgreSQL-only search indexes (nothing on SQLite, whose test databases stay small).

- pg_trgm and a GIN trigram index on the name: substring search (``name LIKE '%…%'``) of three
  characters or more without scanning the store's customers.
- a GIN index on the name's characters (``regexp_split_to_array(name, '')``): substrings of one or
  two characters, which trigrams cannot serve (``customers.search.name_contains`` uses it).
- ``varchar_pattern_ops`` btrees on (store, initials) and (store, pinyin): prefix search
  (``LIKE 'zw%'``) whatever the database collation (the plain btrees only serve ``=`` there).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm ON customers_customer USING gin (name gin_trgm_ops)",
    # The name's characters, for substrings too short for trigrams (two-character Chinese names).
    "CREATE INDEX IF NOT EXISTS customer_name_chars ON customers_customer USING gin (regexp_split_to_array(name, ''))",
    "CREATE INDEX IF NOT EXISTS customer_store_initials_like "
    "ON customers_customer (store_id, name_initials varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS customer_store_pinyin_like "
    "ON customers_customer (store_id, name_pinyin varchar_pattern_ops)",
    # Newest first within one store (every list and search page: ORDER BY id DESC LIMIT 21). The
    # primary key serves that only when the stores' rows are spread over the id range; when one
    # store's rows sit in one range (a store imported at once) it walks the other stores' rows.
    # On SSD storage set random_page_cost = 1.1, or the planner still prefers the primary key.
    "CREATE INDEX IF NOT EXISTS customer_store_newest ON customers_customer (store_id, id)",
    # Expression indexes have no statistics until ANALYZE; without them the planner ignores them.
    "ANALYZE customers_customer",
]
BACKWARD = [
    "DROP INDEX IF EXISTS customer_store_newest",
    "DROP INDEX IF EXISTS customer_name_trgm",
    "DROP INDEX IF EXISTS customer_name_chars",
    "DROP INDEX IF EXISTS customer_store_initials_like",
    "DROP INDEX IF EXISTS customer_store_pinyin_like",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_merge_dedup_import")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
