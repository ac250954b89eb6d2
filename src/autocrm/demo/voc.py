"""Demo voice of customer (客户之声): a few hundred survey comments, complaints and call notes per
store over the last six months, recorded through ``voc.services.record_text`` with the store's
advisors (after-sales) and consultants (delivery surveys) as staff, so /voc/ shows real charts.
Each store has its trouble (a: parts delays, rising in the last month; b: waiting time) and one
advisor praised more than the others. Runs with the generated customers, once per store
(idempotent by source id)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from autocrm.accounts.models import Membership
from autocrm.core.roles import Role
from autocrm.customers.models import Customer
from autocrm.tenancy.models import Organization, Store
from autocrm.voc import phrasebank, services
from autocrm.voc.models import VocText

TEXTS_PER_STORE = 300
TROUBLE = {"a": "parts", "b": "wait"}


def demo_voc_store(store: Store, *, seed: int = 42, now: dt.datetime | None = None) -> int:
    if VocText.objects.filter(store=store).exists():  # scoped: the demo's own store
        return 0
    now = now or timezone.now()
    rng = random.Random(f"voc-{store.code}-{seed}")
    staff = {
        role: list(Membership.objects.filter(store=store, role=role, is_active=True).values_list("user_id", flat=True))
        for role in (Role.ADVISOR, Role.SERVICE_MANAGER, Role.SALES)
    }
    advisors = staff[Role.ADVISOR] + staff[Role.SERVICE_MANAGER]
    consultants = staff[Role.SALES]
    customers = list(Customer.objects.filter(store=store).values_list("pk", flat=True)[:2000])  # scoped: demo store
    trouble = TROUBLE.get(store.code)
    recorded = 0
    for i in range(TEXTS_PER_STORE):
        days_ago = int(rng.triangular(0, 182, 20))
        at = now - dt.timedelta(days=days_ago, hours=rng.randint(0, 10), minutes=rng.randint(0, 59))
        source = rng.choices(("survey", "call", "complaint"), weights=(6, 3, 1))[0]
        after_sales = rng.random() < 0.8 or not consultants
        people = advisors if after_sales else consultants
        person = rng.choice(people) if people else None
        mood = 0.25 if source == "complaint" else 0.6
        if person is not None and advisors and person == advisors[0]:
            mood += 0.2  # the store's best-liked advisor
        # the store's trouble grows in the last month (a rising phrase)
        hot = trouble if (days_ago < 30 or rng.random() < 0.4) else None
        text = phrasebank.comment(rng, mood=mood, trouble=hot)
        services.record_text(
            store_id=store.pk, customer_id=rng.choice(customers) if customers else None, source=source,
            source_id=f"demo-{store.code}-{i}", text=text, staff_id=person, at=at,
        )  # fmt: skip
        recorded += 1
    return recorded


def demo_voc_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook (after the staff and the generated customers)."""
    if not int(options.get("customers") or 0):
        return
    for store in stores.values():
        demo_voc_store(store, seed=int(options.get("seed") or 42))
