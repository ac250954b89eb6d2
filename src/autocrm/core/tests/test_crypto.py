"""Encrypted columns at rest, blind-index search, tamper detection."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag
from django.core.exceptions import FieldError
from django.db import connection
from testapp.factories import ticket_make
from testapp.models import Ticket

from autocrm.core import crypto
from autocrm.core.fields import blind_lookup


def _raw(pk: int, *columns: str) -> tuple:
    table = connection.ops.quote_name(Ticket._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


def test_the_database_column_holds_no_plaintext(demo):
    ticket = ticket_make("a", mobile="13812345678", id_number="11010519491231002X")
    mobile, id_number, mobile_index, id_index = _raw(
        ticket.pk, "mobile", "id_number", "mobile_index", "id_number_index"
    )
    for stored in (mobile, id_number):
        assert stored.startswith("enc:v1:")
    for stored in (mobile, id_number, mobile_index, id_index):
        for secret in ("13812345678", "12345678", "11010519491231002X", "19491231"):
            assert secret not in stored
    # Python code still sees plaintext.
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.mobile, fresh.id_number) == ("13812345678", "11010519491231002X")


def test_same_value_encrypts_differently_each_time(demo):
    one, two = ticket_make("a"), ticket_make("a")
    assert _raw(one.pk, "mobile") != _raw(two.pk, "mobile")
    assert _raw(one.pk, "mobile_index") == _raw(two.pk, "mobile_index")  # the index is deterministic


@pytest.mark.parametrize("typed", ["13812345678", "+86 138-1234-5678", "0086 13812345678", " 138 1234 5678 "])
def test_blind_index_finds_the_record_however_the_number_is_typed(demo, typed):
    ticket = ticket_make("a", mobile="13812345678")
    ticket_make("a", mobile="13900001111")
    assert list(Ticket.objects.filter(**blind_lookup(Ticket, "mobile_index", typed))) == [ticket]


def test_blind_index_on_id_number_ignores_case_and_spaces(demo):
    ticket = ticket_make("a", id_number="11010519491231002X")
    assert list(Ticket.objects.filter(**blind_lookup(Ticket, "id_number_index", "110105 19491231 002x"))) == [ticket]


def test_empty_lookup_matches_nothing(demo):
    ticket_make("a", mobile="")
    assert not Ticket.objects.filter(**blind_lookup(Ticket, "mobile_index", "")).exists()


def test_encrypted_field_refuses_lookups_that_could_never_match(demo):
    with pytest.raises(FieldError, match="Unsupported lookup 'exact'"):
        list(Ticket.objects.filter(mobile="13812345678"))


def test_tampered_ciphertext_fails_instead_of_returning_garbage(demo):
    stored = crypto.encrypt("13812345678")
    kid, payload = stored[len(crypto.PREFIX) :].split(":", 1)
    raw = bytearray(base64.b64decode(payload))
    raw[15] ^= 0x01  # flip one bit of the ciphertext
    tampered = f"{crypto.PREFIX}{kid}:{base64.b64encode(bytes(raw)).decode()}"
    with pytest.raises(InvalidTag):
        crypto.decrypt(tampered)
    assert crypto.decrypt(stored) == "13812345678"


def test_tampered_column_in_the_database_fails_to_load(demo):
    ticket = ticket_make("a")
    (stored,) = _raw(ticket.pk, "mobile")
    kid, payload = stored[len(crypto.PREFIX) :].split(":", 1)
    raw = bytearray(base64.b64decode(payload))
    raw[-1] ^= 0x80  # flip a bit of the tag
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Ticket._meta.db_table} SET mobile = %s WHERE id = %s",
            [f"{crypto.PREFIX}{kid}:{base64.b64encode(bytes(raw)).decode()}", ticket.pk],
        )
    with pytest.raises(InvalidTag):
        Ticket.objects.get(pk=ticket.pk)


def test_ciphertext_is_bound_to_its_key_id(demo):
    """Relabelling a value with another key id does not decrypt (the kid is authenticated data)."""
    stored = crypto.encrypt("13812345678")
    kid = crypto.key_id_of(stored)
    relabelled = stored.replace(f":{kid}:", ":zz:", 1)
    with pytest.raises(Exception):  # noqa: B017 (unknown key or InvalidTag: either way, no plaintext)
        crypto.decrypt(relabelled)


@pytest.mark.parametrize("value", ["", "+8613812345678", "11010519491231002X", "张伟" * 40])
def test_blind_index_is_the_standard_hmac_sha256(value):
    """Keyed once and copied per value for speed; must stay byte-for-byte RFC 2104 HMAC, or every
    stored index would stop matching."""
    import hashlib
    import hmac

    configured = crypto.keys()
    for key in configured:
        assert crypto.blind_index(value, key) == hmac.new(key.index_key, value.encode(), hashlib.sha256).hexdigest()
