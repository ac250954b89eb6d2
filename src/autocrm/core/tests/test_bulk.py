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


def test_text_with_tabs_line_ends_and_backslashes_survives_copy(store):
    tricky = 'tab\there\nnew line\r\\N back\\slash "quoted" 张伟'
    ids = bulk.insert_rows(Ticket, [{"store_id": store.pk, "title": tricky[:100], "cost_price": Decimal("1.05")}])
    ticket = Ticket.objects.get(pk=ids[0])
    assert ticket.title == tricky[:100] and ticket.cost_price == Decimal("1.05") and ticket.owner_id is None


def test_prepared_rows_can_be_built_before_and_written_later(store):
    prepared = bulk.prepare_rows(Ticket, [{"store_id": store.pk, "title": f"t{n}"} for n in range(3)])
    assert not Ticket.objects.exists()  # preparing writes nothing
    ids = bulk.write_prepared(prepared)
    assert [t.title for t in Ticket.objects.filter(pk__in=ids).order_by("pk")] == ["t0", "t1", "t2"]
    if connection.vendor == "postgresql":
        assert prepared.ids == ids  # drawn from the sequence while preparing


def test_copy_text_format():
    import datetime as dt

    from psycopg.types.json import Jsonb

    assert bulk.copy_text(None) == "\\N"
    assert bulk.copy_text("a\tb\\c\nd\re") == "a\\tb\\\\c\\nd\\re"
    assert bulk.copy_text(True) == "t" and bulk.copy_text(False) == "f"
    assert bulk.copy_text(Decimal("12.50")) == "12.50" and bulk.copy_text(7) == "7"
    assert bulk.copy_text(dt.date(2026, 11, 27)) == "2026-11-27"
    assert bulk.copy_text(Jsonb({"k": "x\ty"})) == '{"k": "x\\\\ty"}'
    with pytest.raises(TypeError):
        bulk.copy_text(b"bytes")


def test_repeated_rows_differ_only_in_the_given_field(store):
    owners = [None, None, None]
    prepared = bulk.prepare_repeated(Ticket, {"store_id": store.pk, "title": "same\ttitle"}, "cost_price",
                                     [Decimal("1.00"), Decimal("2.50"), Decimal("3.75")])  # fmt: skip
    bulk.write_prepared(prepared)
    rows = list(Ticket.objects.order_by("cost_price").values_list("title", "cost_price", "owner_id"))
    assert rows == [("same\ttitle", Decimal(p), o) for p, o in zip(("1.00", "2.50", "3.75"), owners, strict=True)]


@pytest.mark.parametrize("quick", [False, True])
def test_analyze_counts_the_rows_just_written_and_keeps_the_session_setting(store, quick):
    """After a big import the planner must know the table grew; the quick sample's smaller target
    lasts for that ANALYZE only."""
    if connection.vendor != "postgresql":
        bulk.analyze(Ticket, quick=quick)  # nothing to do elsewhere, and no error
        return
    bulk.insert_rows(Ticket, [{"store_id": store.pk, "title": f"t{i}"} for i in range(500)])
    with connection.cursor() as cursor:
        cursor.execute("SHOW default_statistics_target")
        before = cursor.fetchone()[0]
        bulk.analyze(Ticket, quick=quick)
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Ticket._meta.db_table])
        assert cursor.fetchone()[0] >= 500
        cursor.execute("SHOW default_statistics_target")
        assert cursor.fetchone()[0] == before


def test_insert_one_stores_what_create_stores_and_refuses_encrypted_models(store):
    """The audit trail's INSERT (``insert_one``, one cached text): the row reads back as the ORM's
    would, JSON and all; a model with encrypted fields is refused rather than stored in clear."""
    from django.apps import apps

    from autocrm.core import audit

    event_model = apps.get_model("audit", "AuditEvent")
    changes = {"name": [None, "王芳"], "amount": [None, "12.50"]}
    event = audit.record("lead.enquired_again", store_id=store.pk, object_type="leads.lead", object_id="7",
                         changes=changes, extra={"channel": "autohome"})  # fmt: skip
    stored = event_model.objects.get(pk=event.pk)  # scoped: test
    assert (stored.action, stored.store_id, stored.object_type, stored.object_id) == (
        "lead.enquired_again", store.pk, "leads.lead", "7",
    )  # fmt: skip
    assert stored.changes == changes and stored.extra == {"channel": "autohome"}
    assert stored.at == event.at and stored.actor_label == "system" and stored.ip is None
    assert not event._state.adding
    with pytest.raises(RuntimeError):
        event.save()  # still append-only
    with pytest.raises(TypeError):
        bulk.insert_one(Ticket, {"store_id": store.pk})
