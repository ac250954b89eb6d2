"""Demo loyalty per store: the default programme, a hundred members with points from past bills
and a car club, rolling spend spread over the tiers (silver, gold, diamond after the nightly
re-evaluation), a few coupons issued and one redeemed, a referral, a small gift catalogue with
one gift redeemed, and an open deal with points toward the car (ADR 0039). Runs with the generated
customers (``--customers`` > 0), once per store."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from autocrm.core import audit
from autocrm.customers.models import Customer
from autocrm.loyalty import services
from autocrm.loyalty.models import CouponType, Membership, SpendEntry
from autocrm.tenancy.models import Organization, Store

SPENDS = (0, 800, 1500, 3200, 4200, 6500, 8800, 12000, 16800)


def demo_loyalty_store(store: Store, *, seed: int = 42, members: int = 100) -> None:
    if Membership.objects.filter(store=store).exists():  # scoped: the demo store
        return
    rng = random.Random(seed + store.pk)
    services.programme_for(store.pk)
    customers = list(
        Customer.objects.filter(store=store).order_by("id").values_list("id", flat=True)[:members]
    )  # scoped
    now = timezone.now()
    for i, customer_id in enumerate(customers):
        member = services.membership_ensure(customer_id=customer_id, store_id=store.pk)
        spend = Decimal(rng.choice(SPENDS))
        if spend:
            SpendEntry.objects.create(store=store, membership=member, amount=spend, category="labour",
                                      source_ref=f"demo:{member.pk}",
                                      occurred_at=now - dt.timedelta(days=rng.randint(5, 300)))  # fmt: skip
            services.award_points(customer_id=customer_id, store_id=store.pk, points=int(spend), source="bill",
                                  source_ref=f"demo-bill:{member.pk}", idempotency_key=f"demo-bill:{member.pk}")  # fmt: skip
        if i % 7 == 0:
            services.award_points(customer_id=customer_id, store_id=store.pk, points=200, source="event",
                                  source_ref="车友会·自驾游", idempotency_key=f"demo-club:{member.pk}")  # fmt: skip
        if i % 9 == 0:
            kind = CouponType.objects.get(store=store, code="REFERRAL")  # scoped: the demo store
            services._issue(kind, customer_id=customer_id, store_id=store.pk, source_ref=f"demo:{member.pk}",
                            actor=None)  # fmt: skip
    services.nightly_store(store_id=store.pk)
    if len(customers) > 3:
        referrer = Membership.objects.get(store=store, customer_id=customers[0])  # scoped: the demo store
        referral = services.referral_from_lead(lead_id=10_000_000 + store.pk, store_id=store.pk,
                                               code=referrer.referral_code, customer_id=customers[3])  # fmt: skip
        if referral is not None:
            services.referral_converted(store_id=store.pk, customer_id=customers[3], lead_id=referral.lead_id,
                                        reason="demo")  # fmt: skip


GIFTS = (("车载香薰", 800, 20), ("品牌保温杯", 1500, 12), ("免费洗车一次", 300, 50), ("车模 1:43", 5000, 3))


def demo_gifts_and_deal_points(store: Store) -> None:
    """The gift catalogue (one gift redeemed for a member with enough points) and a deal of the
    store, not yet ordered, with some of its customer's points applied toward the car."""
    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.loyalty.models import Gift
    from autocrm.sales.models import Deal
    from autocrm.sales.services import deal_points_apply, deal_price

    if Gift.objects.filter(store=store).exists():  # scoped: the demo store
        return
    manager = User.objects.filter(username=f"manager_{store.code}").first()
    if manager is None:
        return
    actor = actor_build(user=manager, store_id=store.pk)
    gifts = [services.gift_save(actor=actor, data={"name": n, "points": p, "stock": s}) for n, p, s in GIFTS]
    rich = Membership.objects.filter(store=store, points_balance__gte=gifts[0].points).order_by("id").first()  # scoped
    if rich is not None:
        services.gift_redeem(actor=actor, data={"gift": gifts[0].pk, "customer": rich.customer_id},
                             idempotency_key=f"demo-gift:{rich.pk}")  # fmt: skip
    for deal in Deal.objects.filter(store=store, status="open", customer__isnull=False,  # scoped: the demo store
                                    stage__in=("visit", "test_drive", "quote")).order_by("id")[:20]:  # fmt: skip
        price = deal_price(deal)
        if price is None or deal.customer_id is None:
            continue
        member = services.membership_ensure(customer_id=deal.customer_id, store_id=store.pk)
        if member.points_balance < 1000:
            services.award_points(customer_id=deal.customer_id, store_id=store.pk, points=20_000, source="partner",
                                  source_ref="demo", idempotency_key=f"demo-deal-seed:{deal.pk}")  # fmt: skip
            member.refresh_from_db()
        cap = services.deal_points_cap(services.programme_for(store.pk), price)
        deal_points_apply(actor=actor, deal=deal, points=min(member.points_balance, cap, 20_000))
        break


def demo_loyalty_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: loyalty with the generated customers (not in the bare test demo)."""
    if not int(options.get("customers") or 0):
        return
    with audit.acting_as(None):
        for store in stores.values():
            demo_loyalty_store(store, seed=int(options.get("seed") or 42))
            demo_gifts_and_deal_points(store)
