"""``autocrm rotate-keys``: re-encrypt protected fields under the active data key.

Put the new key first in AUTOCRM_DATA_KEY (``k2:new,k1:old``), run this, then drop the old
key. Every value stored under another key id — or still in plaintext from before encryption
— is re-encrypted, and every blind index is recomputed under the active key. Rows are read
raw and written with ``QuerySet.update()`` in primary-key batches, one transaction per batch:
no ``save()``, so no change events for what is not a change of data; one ``keys.rotate``
event records the counts. Safe to interrupt and run again.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, models, router, transaction

from autocrm.core import audit, crypto
from autocrm.core.fields import BlindIndexField, EncryptedTextField


def protected_models() -> list[type[models.Model]]:
    """Installed concrete models with an encrypted field or a blind index in their own table."""
    found = []
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or not opts.managed:
            continue
        if any(isinstance(f, (EncryptedTextField, BlindIndexField)) for f in opts.local_concrete_fields):
            found.append(model)
    return found


def rotate_model(model: type[models.Model], *, batch_size: int = 500) -> dict[str, int]:
    """Bring every row of ``model`` under the active key; returns scanned/updated counts."""
    opts = model._meta
    local = opts.local_concrete_fields
    indexes = [f for f in local if isinstance(f, BlindIndexField)]
    sources = {f.source for f in indexes}
    wanted = [f for f in local if isinstance(f, (EncryptedTextField, BlindIndexField)) or f.name in sources]
    active = crypto.active_kid()
    alias = router.db_for_write(model)
    connection = connections[alias]
    qn = connection.ops.quote_name
    pk = qn(opts.pk.column)
    select = f"SELECT {pk}, {', '.join(qn(f.column) for f in wanted)} FROM {qn(opts.db_table)}"
    scanned = updated = 0
    last: Any = None
    while True:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            # Keyset batches: raw reads, so values arrive exactly as stored (kid and all).
            where, params = ("", []) if last is None else (f" WHERE {pk} > %s", [last])
            cursor.execute(f"{select}{where} ORDER BY {pk} LIMIT %s", [*params, batch_size])
            rows = cursor.fetchall()
            if not rows:
                break
            for row in rows:
                last = row[0]
                stored = dict(zip([f.name for f in wanted], row[1:], strict=True))
                plain: dict[str, Any] = {}
                changes: dict[str, Any] = {}
                for field in wanted:
                    value = stored[field.name]
                    if isinstance(field, EncryptedTextField) and value:
                        try:
                            plain[field.name] = crypto.decrypt(value)
                        except ImproperlyConfigured as exc:
                            raise CommandError(f"{opts.label} #{last}: {exc}") from exc
                        except Exception as exc:
                            raise CommandError(f"{opts.label} #{last}: {field.name} cannot be decrypted") from exc
                        if crypto.key_id_of(value) != active:
                            changes[field.attname] = plain[field.name]  # update() encrypts under the active key
                    else:
                        plain[field.name] = value
                for field in indexes:
                    source = plain.get(field.source)
                    expected = field.compute(None if source is None else str(source))
                    if stored[field.name] != expected:
                        changes[field.attname] = expected
                if changes:
                    model._base_manager.using(alias).filter(pk=last).update(**changes)
                    updated += 1
                scanned += 1
    return {"scanned": scanned, "updated": updated}


class Command(BaseCommand):
    help = "Re-encrypt protected personal data under the first key of AUTOCRM_DATA_KEY and rebuild blind indexes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args: Any, batch_size: int = 500, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        active = crypto.active_kid()
        counts: dict[str, dict[str, int]] = {}
        for model in protected_models():
            counts[model._meta.label_lower] = result = rotate_model(model, batch_size=batch_size)
            self.stdout.write(
                f"{model._meta.label_lower}: {result['updated']} of {result['scanned']} rows updated to key {active}"
            )
        audit.record("keys.rotate", extra={"active_kid": active, "models": counts})
        total = sum(c["updated"] for c in counts.values())
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows now under key {active}."))
