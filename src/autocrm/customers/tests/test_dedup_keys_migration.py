"""Migration 0008_dedup_keys backfills the new blind indexes of customers written before it."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from autocrm.customers.models import Customer
from autocrm.tenancy.models import Organization, Store

BEFORE = [("customers", "0007_importjob_moved")]


def test_existing_customers_get_their_address_and_other_phone_keys(committed_db):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        OldCustomer = executor.loader.project_state(BEFORE).apps.get_model("customers", "Customer")
        organization = Organization.objects.create(name="集团", code="k")
        store = Store.objects.create(organization=organization, name="店", code="k", brand="比亚迪", city="成都")
        OldCustomer.objects.create(store_id=store.pk, name="刘萍平", address="成都市锦江区人民路208号3栋",
                                   other_phones="021-55556666,+8613811112222")  # fmt: skip
        OldCustomer.objects.create(store_id=store.pk, name="陈晓东")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    with_address, without = Customer.objects.filter(store__code="k").order_by("id")
    field = Customer._meta.get_field
    assert with_address.address_key == field("address_key").compute("人民路208号") != ""
    assert with_address.other_phone_index == field("other_phone_index").compute("13811112222")
    assert (without.address_key, without.other_phone_index) == ("", "")
