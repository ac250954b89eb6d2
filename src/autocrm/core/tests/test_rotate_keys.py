"""``autocrm rotate-keys``: old keys keep working mid-rotation; afterwards the old key can go."""

from __future__ import annotations

import base64
import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from testapp.factories import store
from testapp.models import Ticket

from autocrm.audit.models import AuditEvent
from autocrm.core import crypto
from autocrm.core.fields import blind_lookup


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


K1, K2 = f"k1:{_key()}", f"k2:{_key()}"


def _raw_rows() -> list[tuple[int, str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, mobile, id_number, mobile_index FROM testapp_ticket ORDER BY id")
        return cursor.fetchall()


def _find(mobile: str) -> list[Ticket]:
    return list(Ticket.objects.filter(**blind_lookup(Ticket, "mobile_index", mobile)).order_by("pk"))


def _make(n: int) -> list[Ticket]:
    a = store("a")
    return [
        Ticket.objects.create(store=a, title=f"t{i}", mobile=f"1380000{i:04d}", id_number=f"11010519491231{i:03d}X")
        for i in range(n)
    ]


def test_rotation_moves_every_row_to_the_new_key(demo):
    with override_settings(AUTOCRM_DATA_KEY=K1):
        tickets = _make(7)
        assert {crypto.key_id_of(m) for _, m, _, _ in _raw_rows()} == {"k1"}
        with connection.cursor() as cursor:  # a legacy row written before encryption was enabled
            cursor.execute(
                "UPDATE testapp_ticket SET mobile = %s, mobile_index = '' WHERE id = %s", ["13900009999", tickets[0].pk]
            )

    with override_settings(AUTOCRM_DATA_KEY=f"{K2},{K1}"):
        # Mid-rotation: old rows decrypt and are found, new rows use k2.
        assert Ticket.objects.get(pk=tickets[3].pk).mobile == "13800000003"
        assert _find("+86 138-0000-0003") == [tickets[3]]
        newer = Ticket.objects.create(store=store("a"), title="new", mobile="13800001234")
        assert crypto.key_id_of({r[0]: r[1] for r in _raw_rows()}[newer.pk]) == "k2"
        events_before = AuditEvent.objects.exclude(action="keys.rotate").count()

        out = StringIO()
        call_command("rotate-keys", "--batch-size", "3", stdout=out)

        assert "testapp.ticket: 7 of 8 rows updated to key k2" in out.getvalue()
        rows = _raw_rows()
        assert all(m.startswith("enc:v1:k2:") for _, m, _, _ in rows)
        assert all(i.startswith("enc:v1:k2:") for _, _, i, _ in rows if i)  # "new" has no ID number
        assert sum(1 for _, _, i, _ in rows if i) == 7
        assert _find("13800000005") == [tickets[5]]
        assert _find("13900009999") == [tickets[0]]
        # One event with the counts, no per-row change events.
        assert AuditEvent.objects.exclude(action="keys.rotate").count() == events_before
        event = AuditEvent.objects.get(action="keys.rotate")
        assert event.extra["active_kid"] == "k2"
        assert event.extra["models"]["testapp.ticket"] == {"scanned": 8, "updated": 7}

    with override_settings(AUTOCRM_DATA_KEY=K2):
        # The old key is gone: everything still decrypts and is still found.
        loaded = {t.pk: t for t in Ticket.objects.all()}
        assert loaded[tickets[0].pk].mobile == "13900009999"
        assert loaded[tickets[6].pk].id_number == "11010519491231006X"
        assert loaded[newer.pk].mobile == "13800001234"
        assert _find("13800000006") == [tickets[6]]
        # Running again finds nothing to do.
        out = StringIO()
        call_command("rotate_keys", stdout=out)
        assert "testapp.ticket: 0 of 8 rows updated to key k2" in out.getvalue()


def test_without_the_old_key_the_rows_cannot_be_read(demo):
    with override_settings(AUTOCRM_DATA_KEY=K1):
        ticket = _make(1)[0]
    with override_settings(AUTOCRM_DATA_KEY=K2), pytest.raises(Exception, match="k1"):
        Ticket.objects.get(pk=ticket.pk)


def test_rotation_stops_with_a_clear_error_when_a_key_is_missing(demo):
    from django.core.management.base import CommandError

    with override_settings(AUTOCRM_DATA_KEY=K1):
        _make(2)
    with override_settings(AUTOCRM_DATA_KEY=K2), pytest.raises(CommandError, match="k1"):
        call_command("rotate-keys", stdout=StringIO())
