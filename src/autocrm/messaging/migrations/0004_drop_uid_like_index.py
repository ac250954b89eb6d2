"""Drop the second index PostgreSQL got on ``Message.uid``: Django adds a ``varchar_pattern_ops``
copy of every indexed ``CharField`` for ``LIKE`` lookups, and nothing looks a message up by a
part of its uid. The unique index stays (it is what finds a message by its uid). Planning a
million messages paid for this index on every row (docs/adr/0022-batch-delivery.md)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEX = "messaging_message_uid_de3e2557_like"


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


def restore(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "messaging_message" ("uid" varchar_pattern_ops)')


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_address_index_normalised")]

    operations = [migrations.RunPython(drop, restore, elidable=False)]
