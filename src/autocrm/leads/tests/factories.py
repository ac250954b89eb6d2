"""Test data through the real services (CONVENTIONS rule 8)."""

from __future__ import annotations

import itertools
from typing import Any

from autocrm.accounts.models import User
from autocrm.core.actor import Actor
from autocrm.customers.tests.factories import actor_for
from autocrm.leads.models import ConsultantDuty, Lead
from autocrm.leads.services import duty_set, lead_create

_seq = itertools.count(100)


def mobile() -> str:
    return f"1370{next(_seq):07d}"


def uid(username: str) -> int:
    return User.objects.get(username=username).pk


def on_duty(store: str, *usernames: str, status: str = "on_duty", **kw: Any) -> list[ConsultantDuty]:
    manager = actor_for(f"sales_manager_{store}", store)
    return [duty_set(actor=manager, user_id=uid(u), status=status, **kw) for u in usernames]


def make_lead(actor: Actor, **data: Any) -> Lead:
    data.setdefault("name", "李雷")
    data.setdefault("mobile", mobile())
    consultant = data.pop("consultant_id", None)
    return lead_create(actor=actor, data=data, source="walk_in", consultant_id=consultant).lead


__all__ = ["actor_for", "make_lead", "mobile", "on_duty", "uid"]
