"""Demo customer care (回访、投诉、满意度): per store, follow-up calls planned from past visits (some
due today, some overdue and escalated), complaints at every step (some escalated to the manager
and the general manager, one closed with its root cause) and survey answers (a few low, a few
flagged for review), so the agent's and the manager's home and the care pages show real work.
Runs with the generated customers (``--customers`` > 0); idempotent (a store with demo calls is skipped)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.care import services
from autocrm.care.models import FollowUp
from autocrm.core import audit
from autocrm.tenancy.models import Organization, Store
from autocrm.vehicles.models import Vehicle

DEMO_SOURCE = 9_000_000_000  # source ids of the demo's calls and surveys (no real record has them)
COMMENTS_LOW = ["等待时间太长，前台没人解释", "价格不透明，结账时多了配件费", "洗车没洗干净"]
COMMENTS_HIGH = ["服务顾问很专业，讲解清楚", "休息区环境很好，效率高", "价格透明，满意"]


def _care_store(store: Store, rng: random.Random) -> None:
    if FollowUp.objects.filter(store=store, source_id__gte=DEMO_SOURCE).exists():  # scoped: the demo's store
        return
    cars = list(
        Vehicle.objects.filter(store=store, customer__isnull=False)  # scoped: the demo's store
        .select_related("customer")
        .order_by("id")[:40]
    )
    if not cars:
        return
    now = timezone.now()
    agent = actor_build(user=User.objects.get(username=f"agent_{store.code}1"), store_id=store.pk)
    advisor = User.objects.get(username=f"advisor_{store.code}1")
    for i, car in enumerate(cars[:16]):
        at = now - dt.timedelta(days=rng.choice([0, 1, 2, 3, 4, 5]), hours=rng.randint(0, 6))
        services.followup_plan(store_id=store.pk, kind="service" if i % 3 else "delivery", source_id=DEMO_SOURCE + i,
                               customer_id=int(car.customer_id or 0), vehicle_id=car.pk, staff_id=advisor.pk, at=at)  # fmt: skip
    services.followup_sweep(store_id=store.pk, now=now)
    severities = ["medium", "low", "high", "medium", "medium", "low"]
    for i, car in enumerate(cars[16:22]):
        c = services.complaint_create(actor=agent, data={
            "customer": car.customer_id, "vehicle": car.pk, "channel": rng.choice(["phone", "call", "wechat"]),
            "category": rng.choice(["waiting", "price", "quality", "attitude"]), "severity": severities[i],
            "department": "aftersales", "description": COMMENTS_LOW[i % 3], "staff": advisor.pk,
        }, now=now - dt.timedelta(hours=30 - i * 4))  # fmt: skip
        if i in (1, 4):
            c = services.complaint_advance(actor=agent, complaint=c, data={"assignee": advisor.pk})
        if i == 4:
            c = services.complaint_advance(actor=agent, complaint=c, data={})
            c = services.complaint_advance(actor=agent, complaint=c, data={"resolution": "致歉并免费返工"})
            services.complaint_advance(actor=agent, complaint=c, data={"root_cause": "workmanship",
                                                                       "customer_confirmed": True})  # fmt: skip
    services.complaint_sweep(store_id=store.pk, now=now)
    for i, car in enumerate(cars[22:40]):
        invs = services.survey_invite(store_id=store.pk, moment="service", source_id=DEMO_SOURCE + 100 + i,
                                      customer_id=int(car.customer_id or 0), vehicle_id=car.pk, staff_id=advisor.pk,
                                      now=now - dt.timedelta(days=2))  # fmt: skip
        low = i % 6 == 0
        flagged = i % 7 == 3
        for inv in invs:
            token = services.survey_token(inv)
            inv.opened_at = now - dt.timedelta(days=1, minutes=i + 3)
            inv.save(update_fields=["opened_at"])
            if inv.template.kind == "csi":
                score = rng.choice([2, 3]) if low else rng.choice([4, 5])
                data: dict[str, Any] = {item["code"]: score for item in inv.template.items}
                data["comment"] = rng.choice(COMMENTS_LOW if low else COMMENTS_HIGH)
            else:
                data = {"nps": rng.choice([3, 5]) if low else rng.choice([8, 9, 10]), "comment": ""}
            services.survey_respond(token=token, data=data, now=now - dt.timedelta(days=1, minutes=i),
                                    answering=services.Answering(ip="10.0.0.8" if flagged else "203.0.113.7",
                                                                 device=f"demo-{store.code}-{i}",
                                                                 staff_session=flagged))  # fmt: skip


def demo_care_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook (after the generated customers and their cars)."""
    if not int(options.get("customers") or 0):
        return
    rng = random.Random(int(options.get("seed") or 42) + 15)
    with audit.acting_as(None):
        for store in stores.values():
            _care_store(store, rng)
