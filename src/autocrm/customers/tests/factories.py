"""Test data through the real services (CONVENTIONS rule 8)."""

from __future__ import annotations

import itertools
from typing import Any

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.core.actor import Actor
from autocrm.customers.models import Customer
from autocrm.customers.services import customer_create

_seq = itertools.count(1000)


def actor_for(username: str, store_code: str | None = None) -> Actor:
    user = User.objects.get(username=username)
    store_id = None
    if store_code:
        from autocrm.tenancy.models import Store

        store_id = Store.objects.get(code=store_code).pk
    return actor_build(user=user, store_id=store_id)


def unique_mobile() -> str:
    return f"1391{next(_seq):07d}"


def make_customer(actor: Actor, **data: Any) -> Customer:
    data.setdefault("name", "张伟")
    data.setdefault("mobile", unique_mobile())
    consultant_id = data.pop("consultant_id", None)
    return customer_create(actor=actor, data=data, consultant_id=consultant_id, confirm_new=True)
