"""Helpers for the platform tests: actors of the demo logins and tickets in their stores."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.core import audit
from autocrm.core.actor import Actor
from autocrm.tenancy.models import Store

from .models import Ticket

# A demo login per role (API.md), with the store it works in.
LOGIN_OF_ROLE = {
    "sales": ("sales_a1", "a"),
    "advisor": ("advisor_a1", "a"),
    "agent": ("agent_a1", "a"),
    "marketing": ("marketing_a1", "a"),
    "sales_manager": ("sales_manager_a", "a"),
    "service_manager": ("service_manager_a", "a"),
    "technician": ("tech_a1", "a"),
    "finance": ("finance_a1", "a"),
    "manager": ("manager_a", "a"),
    "director": ("director", "a"),
    "admin": ("admin", "a"),
}


def store(code: str) -> Store:
    return Store.objects.get(code=code)


def actor_for(username: str, store_code: str | None = None, **changes: Any) -> Actor:
    user = User.objects.get(username=username)
    actor = actor_build(user=user, store_id=store(store_code).pk if store_code else None)
    return dataclasses.replace(actor, **changes) if changes else actor


def ticket_make(
    store_code: str,
    *,
    owner: str | None = None,
    title: str = "ticket",
    mobile: str = "13812345678",
    id_number: str = "11010519491231002X",
    cost_price: str = "88000.00",
) -> Ticket:
    """Test data written as the system (the ORM, so no permission is needed to set it up)."""
    with audit.acting_as(None):
        return Ticket.objects.create(
            store=store(store_code),
            owner=User.objects.get(username=owner) if owner else None,
            title=title,
            mobile=mobile,
            id_number=id_number,
            cost_price=Decimal(cost_price),
        )
