"""Demo leads per store (with ``autocrm demo --customers N``): three months of enquiries from
every channel through the real intake (de-dup, assignment by round robin), with calls, WeChat
and visits logged through the activity service, so that the home pages show real work on a
fresh ``make run`` — new leads waiting with their time left, follow-ups due today, overdue and
sleeping ones, unassigned leads in the sales manager's queue, and lost requests to decide (some
approved, for the lost-reason report). Idempotent: a store that has leads already is skipped."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.leads.choices import LeadSource
from autocrm.leads.models import Lead
from autocrm.leads.services import (
    duty_set,
    lead_activity_log,
    lead_create,
    lost_request_approve,
    lost_request_create,
    rules_changed,
)
from autocrm.tenancy.models import Organization, Store

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞")
MODELS = ("Model Y", "Model 3", "卡罗拉", "凯美瑞", "RAV4荣放", "汉兰达", "雷凌", "亚洲龙", "bZ4X")
MESSAGES = (
    "落地价多少？",
    "有现车吗？",
    "首付多少，月供多少？",
    "提车要等多久？",
    "周末可以试驾吗？",
    "贷款利率是多少",
    "",
    "",
)
CHANNELS = (
    (LeadSource.AUTOHOME, 25), (LeadSource.DONGCHEDI, 20), (LeadSource.YICHE, 10), (LeadSource.WALK_IN, 15),
    (LeadSource.PHONE, 10), (LeadSource.WEB_FORM, 8), (LeadSource.OEM, 6), (LeadSource.WECHAT, 3),
    (LeadSource.REFERRAL, 2), (LeadSource.EVENT, 1),
)  # fmt: skip


def demo_leads_store(store: Store, *, count: int, seed: int = 42, now: dt.datetime | None = None) -> int:
    """About ``count`` leads of the last 90 days in ``store``; returns how many were made."""
    if Lead.objects.filter(store=store).exists():  # scoped: the demo fills one store
        return 0
    rng = random.Random(f"{seed}-{store.code}")
    now = now or timezone.now()
    manager = actor_build(user=User.objects.get(username=f"sales_manager_{store.code}"), store_id=store.pk)
    consultants = [User.objects.get(username=f"sales_{store.code}{i}") for i in (1, 2)]
    for i, user in enumerate(consultants):
        duty_set(actor=manager, user_id=user.pk, status="on_duty", daily_capacity=60,
                 specialities="Model Y, Model 3" if i == 1 else "")  # fmt: skip
    rules_changed(store.pk)
    channels, weights = zip(*CHANNELS, strict=True)
    made = 0
    for n in range(count):
        age = (
            dt.timedelta(minutes=rng.randint(5, 90 * 24 * 60)) if n >= 12 else dt.timedelta(minutes=rng.randint(2, 25))
        )
        arrived = now - age
        data: dict[str, Any] = {
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.5 else ""),
            "mobile": f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
            "model_interest": rng.choice(MODELS), "message": rng.choice(MESSAGES),
            "source_channel": rng.choices(channels, weights)[0], "grade": rng.choice(("H", "A", "A", "B", "B", "C", "")),
            "campaign": "双十一团购" if rng.random() < 0.1 else "",
        }  # fmt: skip
        intake = lead_create(actor=manager, data=data, now=arrived)
        if not intake.created:
            continue
        made += 1
        lead = intake.lead
        if n < 12 or lead.consultant is None:
            continue  # new ones still waiting for their first contact
        consultant = actor_build(user=lead.consultant, store_id=store.pk)
        fate = rng.random()
        if fate < 0.06:
            continue  # never contacted: breaches the first-contact target
        touch = arrived + dt.timedelta(minutes=rng.randint(3, 90))
        lead_activity_log(actor=consultant, lead=lead, kind="call", outcome="reached", now=touch,
                          note=rng.choice(("客户对价格敏感", "约周末到店", "在对比竞品", "需要家人商量")))  # fmt: skip
        if fate < 0.35 and touch + dt.timedelta(days=2) < now:
            lead.refresh_from_db()
            lead_activity_log(actor=consultant, lead=lead, kind="visit", outcome="appointment",
                              now=touch + dt.timedelta(days=2), note="到店看车")  # fmt: skip
        lead.refresh_from_db()
        if fate > 0.85 and lead.status != "lost_requested":
            request = lost_request_create(
                actor=consultant, lead=lead, reason=rng.choice(("price", "bought_competitor", "unreachable", "no_longer_buying")),
                note="客户已不考虑",
            )  # fmt: skip
            if fate > 0.92:
                lost_request_approve(actor=manager, request=request, note="同意")
    return made


def demo_leads_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: demo leads when the demo has customers (tests' bare demo gets none)."""
    customers = int(options.get("customers") or 0)
    if not customers:
        return
    for store in stores.values():
        demo_leads_store(store, count=min(400, max(40, customers // 100)), seed=int(options.get("seed") or 42))
