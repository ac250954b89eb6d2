"""The name search's index: the name's characters *and* character pairs (PostgreSQL only;
docs/adr/0042, ``benchmarks/name_search_index.py``).

The GIN index on the name's characters (``customer_name_chars``, migration 0003) found a
two-character name by intersecting the posting lists of both characters: at a store of 604,508
customers the commonest two-character name (王龙) read 3,337 rows to keep 51 (33 ms), a common
given name (龙龙) 36,389 rows (564 ms). Indexing the pairs as well hands the heap only the names
holding every pair of the query: 1,993 and 526 rows (3.1 and 0.9 ms); one character is still
found through its own entry. The function is PL/pgSQL (a loop), measured at +17 µs per row
written against +8 µs for the characters alone (a SQL function over ``generate_series`` cost
+76 µs). Its pairs keep spaces as they are, so the pairs of any substring are pairs of the name.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION customer_name_grams(name text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  grams text[] := regexp_split_to_array(name, '');
BEGIN
  FOR i IN 1 .. char_length(name) - 1 LOOP
    grams := grams || substr(name, i, 2);
  END LOOP;
  RETURN grams;
END
$$
"""

FORWARD = [
    FUNCTION,
    "CREATE INDEX IF NOT EXISTS customer_name_grams ON customers_customer USING gin (customer_name_grams(name))",
    "DROP INDEX IF EXISTS customer_name_chars",
    # Expression indexes have no statistics until ANALYZE; without them the planner ignores them.
    "ANALYZE customers_customer",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS customer_name_chars ON customers_customer USING gin (regexp_split_to_array(name, ''))",
    "DROP INDEX IF EXISTS customer_name_grams",
    "DROP FUNCTION IF EXISTS customer_name_grams(text)",
    "ANALYZE customers_customer",
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
    dependencies = [("customers", "0011_licence_expiry")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
