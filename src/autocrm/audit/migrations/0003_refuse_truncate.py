"""The audit table refuses TRUNCATE too. Row triggers (0002) do not see a TRUNCATE, so on
PostgreSQL a statement-level trigger refuses it. SQLite has no TRUNCATE: its ``DELETE FROM``
without a WHERE is a DELETE, which 0002's trigger already refuses.

A superuser is let through: it can switch every trigger off anyway (``ALTER TABLE … DISABLE
TRIGGER``, ``session_replication_role``), and Django's test runner empties every table with one
TRUNCATE as a superuser. The application must therefore connect as a role that is neither
superuser nor the table's owner (docs/operations.md gives the SQL)."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: TRUNCATE is refused';
END; $$ LANGUAGE plpgsql;
"""
TRIGGER = (
    "CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON audit_auditevent "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_no_truncate();"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(TRIGGER)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_auditevent_no_truncate()")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
