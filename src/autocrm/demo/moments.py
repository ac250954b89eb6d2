"""Demo care moments and car club (ADR 0036): every trigger on for store a (the weather at the
store city's location), and in each store two upcoming club events, one of them full with a
waitlist, with registrations made through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from autocrm.accounts.models import Membership
from autocrm.accounts.selectors import actor_build
from autocrm.core.errors import DomainError
from autocrm.core.roles import Role
from autocrm.customers.models import Customer
from autocrm.moments import services
from autocrm.moments.choices import DEFAULT_DAYS_BEFORE, DEFAULT_TEMPLATE, MomentKind
from autocrm.moments.models import ClubEvent
from autocrm.tenancy.models import Organization, Store

EVENTS = (
    ("冬季安全驾驶讲座", "4S店二楼会议室", 30, 10),
    ("川西自驾游·车友会", "4S店门口集合", 4, 24),
)


def _actor(store: Store, role: str) -> Any:
    member = Membership.objects.filter(store=store, role=role).select_related("user").first()
    return actor_build(user=member.user, store_id=store.pk) if member else None


def demo_moments_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook (after the customers)."""
    if "a" in stores:
        manager = _actor(stores["a"], Role.MANAGER)
        if manager is not None:
            for kind in MomentKind.values:
                services.trigger_save(actor=manager, kind=kind, data={
                    "is_active": True, "days_before": DEFAULT_DAYS_BEFORE[MomentKind(kind)],
                    "template_code": DEFAULT_TEMPLATE[MomentKind(kind)],
                    "location": "31.22,121.54" if kind == MomentKind.WEATHER else "",
                })  # fmt: skip
    for store in stores.values():
        agent = _actor(store, Role.AGENT)
        if agent is None or ClubEvent.objects.filter(store=store).exists():
            continue
        customers = list(Customer.objects.filter(store=store, merged_into__isnull=True).order_by("id")[:8])
        for n, (title, place, capacity, days) in enumerate(EVENTS):
            starts = timezone.now().replace(hour=1, minute=30, second=0, microsecond=0) + dt.timedelta(days=days)
            event = services.event_create(actor=agent, data={
                "title": title, "place": place, "capacity": capacity, "starts_at": starts.isoformat(),
                "description": "欢迎车主携家人参加" if n == 0 else "两天一夜，车队出发，名额有限",
            })  # fmt: skip
            for customer in customers[: 3 if n == 0 else 6]:
                try:
                    services.registration_create(actor=agent, event=event, customer_id=customer.pk)
                except DomainError:  # a customer the agent may not see: skipped
                    continue
