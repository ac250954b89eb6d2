"""core.bulk: COPY inserts and updates store exactly what the ORM would (run on SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from testapp.models import Ticket

from autocrm.core import bulk
from autocrm.core.fields import blind_lookup
from autocrm.demo.services import demo_create


@pytest.fixture
def store(db):
    return demo_create()["stores"]["a"]


def _stored(pk: int, column: str) -> str:
    table = connection.ops.quote_name(Ticket._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_insert_rows_encrypts_indexes_and_fills_defaults(store):
    ids = bulk.insert_rows(
        Ticket,
        [
            {"store_id": store.pk, "title": "one", "mobile": "+8613812345678"},
            {"store_id": store.pk, "title": "two", "id_number": "11010519491231002X", "cost_price": Decimal("9.50")},
        ],
    )
    assert len(ids) == 2 and ids[0] < ids[1]
    one, two = Ticket.objects.get(pk=ids[0]), Ticket.objects.get(pk=ids[1])
    assert (one.title, one.mobile, one.id_number, one.cost_price) == ("one", "+8613812345678", "", Decimal("0"))
    assert two.cost_price == Decimal("9.50") and two.id_number == "11010519491231002X"
    assert _stored(ids[0], "mobile").startswith("enc:v1:")  # no plaintext in the column
    assert one.created_at is not None and one.updated_at is not None
    # The blind index was computed from its source, so exact search finds the row.
    assert list(Ticket.objects.filter(**blind_lookup(Ticket, "mobile_index", "138 1234 5678"))) == [one]
    assert bulk.insert_rows(Ticket, [{"store_id": store.pk, "title": "three"}], returning=False) == []
    assert Ticket.objects.filter(title="three").exists()


def test_update_instances_writes_the_named_fields_only(store):
    a = Ticket.objects.create(store=store, title="a", mobile="+8613800000001")
    b = Ticket.objects.create(store=store, title="b")
    a.mobile, a.title = "+8613900000002", "changed but not named"
    b.mobile = "+8613900000003"
    assert bulk.update_instances(Ticket, [a, b], ["mobile"]) == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.title, a.mobile, b.mobile) == ("a", "+8613900000002", "+8613900000003")
    assert _stored(a.pk, "mobile").startswith("enc:v1:")
