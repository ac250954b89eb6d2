"""Duplicate evidence kept on the customer (issue 10, docs/adr/0002): ``address_key``, the blind
index of the address's street + house number (人民路208), and ``other_phone_index``, the blind
index of the first mobile among the other phones. Existing rows are backfilled before the
indexes are built (one pass over the rows that have an address or other phones: decrypt, key,
HMAC, then one ``UPDATE … FROM`` per 5,000 rows on PostgreSQL)."""

import autocrm.core.fields
from django.db import migrations

CHUNK = 5000


def backfill(apps, schema_editor):
    from autocrm.core import bulk

    Customer = apps.get_model("customers", "Customer")
    address_field = Customer._meta.get_field("address_key")
    phone_field = Customer._meta.get_field("other_phone_index")
    # Encrypted columns take no lookups but isnull; the blank test is on the ciphertext column.
    with_values = Customer.objects.extra(where=["(address <> '' OR other_phones <> '')"]).order_by("pk")
    batch = []
    for pk, address, other_phones in with_values.values_list("pk", "address", "other_phones").iterator(
        chunk_size=CHUNK
    ):
        batch.append(
            Customer(pk=pk, address_key=address_field.compute(address), other_phone_index=phone_field.compute(other_phones))
        )
        if len(batch) >= CHUNK:
            bulk.update_instances(Customer, batch, ["address_key", "other_phone_index"])
            batch = []
    bulk.update_instances(Customer, batch, ["address_key", "other_phone_index"])


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0007_importjob_moved'),
    ]

    operations = [
        migrations.AddField(
            model_name='customer',
            name='other_phone_index',
            field=autocrm.core.fields.BlindIndexField(normalizer='autocrm.core.normalize.normalize_other_phone', source='other_phones'),
        ),
        migrations.AddField(
            model_name='customer',
            name='address_key',
            field=autocrm.core.fields.BlindIndexField(normalizer='autocrm.core.addresses.street_key', source='address'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='customer',
            index=autocrm.core.fields.EqualityIndex(fields=['other_phone_index'], name='customer_other_phone_index'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=autocrm.core.fields.EqualityIndex(fields=['address_key'], name='customer_address_key'),
        ),
    ]
