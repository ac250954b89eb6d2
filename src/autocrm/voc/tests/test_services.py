"""record_text: idempotent by (source, source id), re-read when the text changes, bad input a
ValidationError naming the field with nothing written; record_texts in batches."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.core.errors import ValidationError
from autocrm.customers.models import Customer
from autocrm.customers.tests.test_multistore import build_customer
from autocrm.tenancy.models import Store
from autocrm.voc import services
from autocrm.voc.models import VocPhrase, VocText

pytestmark = pytest.mark.django_db


def _args(store, **kw):
    base = {"store_id": store.pk, "customer_id": None, "source": "survey", "source_id": 1,
            "text": "等了三个小时，太慢了", "staff_id": None, "at": timezone.now()}  # fmt: skip
    return {**base, **kw}


def test_record_is_idempotent_and_rereads_a_changed_text(demo):
    store = Store.objects.get(code="a")
    advisor = User.objects.get(username="advisor_a1")
    customer = build_customer(store, advisor)
    row = services.record_text(**_args(store, customer_id=customer.pk, staff_id=advisor.pk))
    assert row.sentiment == "negative" and "wait-" in row.phrases
    assert VocPhrase.objects.filter(text=row, code="wait", positive=False, staff=advisor).exists()
    again = services.record_text(**_args(store, customer_id=customer.pk, staff_id=advisor.pk))
    assert again.pk == row.pk and VocText.objects.count() == 1
    assert VocPhrase.objects.filter(text=row).count() == len(row.phrases)
    changed = services.record_text(**_args(store, text="价格透明，服务很专业", staff_id=advisor.pk))
    assert changed.pk == row.pk and changed.sentiment == "positive"
    assert set(VocPhrase.objects.filter(text=row).values_list("code", flat=True)) >= {"transparency"}
    assert not VocPhrase.objects.filter(text=row, code="wait").exists()
    other = services.record_text(**_args(store, source="complaint"))  # another source, same id
    assert other.pk != row.pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "tweet"}, "source"),
        ({"source_id": ""}, "source_id"),
        ({"source_id": "x" * 65}, "source_id"),
        ({"text": ""}, "text"),
        ({"text": ["坏"]}, "text"),
        ({"text": "坏\x00"}, "text"),
        ({"at": dt.datetime(2026, 1, 1, 12)}, "at"),  # naive
        ({"at": "yesterday"}, "at"),
        ({"store_id": "a"}, "store_id"),
        ({"store_id": 999999}, "store_id"),
        ({"customer_id": 999999}, "customer_id"),
        ({"staff_id": 999999}, "staff_id"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(demo, change, field):
    store = Store.objects.get(code="a")
    with pytest.raises(ValidationError) as exc:
        services.record_text(**_args(store, **change))
    assert field in exc.value.fields
    assert not VocText.objects.exists() and not VocPhrase.objects.exists()


def test_a_customer_of_another_store_is_refused(demo):
    a, b = Store.objects.get(code="a"), Store.objects.get(code="b")
    theirs = build_customer(b, User.objects.get(username="advisor_b1"))
    with pytest.raises(ValidationError) as exc:
        services.record_text(**_args(a, customer_id=theirs.pk))
    assert "customer_id" in exc.value.fields
    assert Customer.objects.filter(pk=theirs.pk).exists()


def test_record_texts_skips_known_keys(demo):
    store = Store.objects.get(code="a")
    now = timezone.now()
    services.record_text(**_args(store, source_id="7"))
    items = [services.TextIn("call", str(i), t, now) for i, t in enumerate(["态度很好", "配件缺货", "还行"])]
    items.append(services.TextIn("survey", "7", "已经有了", now))
    assert services.record_texts(store_id=store.pk, items=items, batch=2) == 3
    assert services.record_texts(store_id=store.pk, items=items) == 0
    assert VocText.objects.count() == 4
    assert VocPhrase.objects.filter(code="parts", positive=False).exists()
    with pytest.raises(ValidationError):
        services.record_texts(store_id=store.pk, items=[services.TextIn("tweet", "1", "好", now)])
