"""Demo leads per store (with ``autocrm demo --customers N``): two years of enquiries from every
channel (汽车之家/懂车帝/易车, the website form, walk-ins, phone, auto shows, referrals, imports…)
with their calls, WeChat messages and store visits, lost requests (approved, returned — the
"wrongly lost" leads that were still alive — and pending), sleeping leads, and the deals that
came of them (``demo.sales``: test drives, quotes, orders, deliveries through the services).

The rates are those of a Chinese dealership: about 30 % of leads visit the store, 60 % of the
visitors test-drive, about one visitor in five orders (so 4–8 % of leads become a delivery);
first contacts have a median of about a quarter of an hour of opening time, with a long tail.

History is written with ``bulk_create`` (two years through the intake would take minutes) but
holds what the services hold: the mobile encrypted with its blind index, the first-contact
deadline from the store's business-hours clock, the status, ``first_contact_at`` and
``last_touch_at`` agreeing with the activities, one pending lost request per lead at most,
``closed_at`` on closed leads. Today's work goes through the real intake and activity services
at the real current time, so the home pages are alive on a fresh ``make run``: new leads due in
minutes (with their deadline), follow-ups due today, overdue ones, unassigned leads in the sales
manager's queue, lost requests to decide. Deterministic (seeded). Idempotent: a store that has
leads already is skipped."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from autocrm.accounts.models import Membership, User
from autocrm.accounts.selectors import actor_build
from autocrm.core.business_hours import add_business_minutes
from autocrm.core.roles import Role
from autocrm.leads.choices import ActivityKind, LeadSource, LeadStatus, LostRequestStatus
from autocrm.leads.models import Lead, LeadActivity, LostRequest
from autocrm.leads.services import (
    duty_set,
    lead_activity_log,
    lead_create,
    lost_request_create,
    rules_changed,
)
from autocrm.tenancy.models import Organization, Store

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞")
MODELS = ("汉 EV 冠军版", "唐 DM-i", "宋 PLUS DM-i", "秦 PLUS EV", "海豹")
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
    (LeadSource.AUTOHOME, 24), (LeadSource.DONGCHEDI, 20), (LeadSource.YICHE, 9), (LeadSource.WALK_IN, 14),
    (LeadSource.PHONE, 9), (LeadSource.WEB_FORM, 8), (LeadSource.OEM, 5), (LeadSource.WECHAT, 3),
    (LeadSource.REFERRAL, 3), (LeadSource.EVENT, 3), (LeadSource.IMPORT, 2),
)  # fmt: skip
# Walk-ins and referrals visit far more often than platform leads.
VISIT_RATE: dict[str, float] = {LeadSource.WALK_IN: 0.95, LeadSource.REFERRAL: 0.55, LeadSource.EVENT: 0.4}
VISIT_RATE_DEFAULT = 0.2
TEST_DRIVE_RATE = 0.6
ORDER_RATE = 0.2  # of visitors
LOST_REASONS = ("price", "bought_competitor", "unreachable", "no_longer_buying", "bought_elsewhere", "finance_refused")
LOST_WEIGHTS = (30, 28, 18, 12, 8, 4)
NOTES = ("客户对价格敏感", "约周末到店", "在对比竞品", "需要家人商量", "关注续航和充电", "问了置换政策")
HISTORY_DAYS = 730


@dataclass
class DealPlan:
    """A lead that came to the store: the deal ``demo.sales`` walks for it, and when."""

    lead_id: int
    consultant_id: int
    visit_at: dt.datetime
    target: str  # the stage the deal reaches
    closes: bool  # the lead was lost after the visit (its deal is closed as lost)
    test_drive: bool
    model: str
    repeat_of: int | None = None  # a customer buying their second car


@dataclass
class DemoLeads:
    made: int = 0
    plans: list[DealPlan] = field(default_factory=list)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.5 else "")


def _mobile(store: Store, n: int) -> str:
    return f"+86166{store.pk % 10}{n:07d}"


def _response_minutes(rng: random.Random) -> int:
    """Minutes of opening time to the first contact: lognormal, median ~14, p90 ~60."""
    return max(1, int(math.exp(rng.gauss(math.log(14), 1.1))))


def _consultants(store: Store) -> list[int]:
    return list(
        Membership.objects.filter(store=store, role=Role.SALES, is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def demo_leads_store(
    store: Store, *, count: int, seed: int = 42, now: dt.datetime | None = None, with_deals: bool = True
) -> DemoLeads:
    """About ``count`` leads of the last two years in ``store`` and today's work; with
    ``with_deals`` the deals of the leads that visited (``demo.sales``)."""
    result = DemoLeads()
    if Lead.objects.filter(store=store).exists():  # scoped: the demo fills one store
        return result
    consultants = _consultants(store)
    managers = list(
        Membership.objects.filter(store=store, role=Role.SALES_MANAGER, is_active=True).values_list(
            "user_id", flat=True
        )
    )
    if not consultants or not managers:
        return result
    rng = random.Random(f"{seed}-{store.code}-leads")
    now = now or timezone.now()
    manager = actor_build(user=User.objects.get(pk=managers[0]), store_id=store.pk)
    for i, uid in enumerate(consultants):
        duty_set(actor=manager, user_id=uid, status="on_duty", daily_capacity=60,
                 specialities="汉 EV 冠军版, 海豹" if i == 1 else "")  # fmt: skip
    rules_changed(store.pk)
    history = _History(store, rng=rng, now=now, consultants=consultants, manager_id=managers[0])
    history.build(max(0, count - 20))
    result.made = history.save()
    result.plans = history.plans
    result.made += _today(store, rng=rng, now=now, manager=manager, consultants=consultants)
    if with_deals and result.plans:
        from .sales import demo_sales_store

        demo_sales_store(store, seed=seed, plans=result.plans, now=now)
    return result


class _History:
    """Leads, activities and lost requests of the past two years, built in memory then inserted
    in bulk."""

    def __init__(self, store: Store, *, rng: random.Random, now: dt.datetime, consultants: list[int],
                 manager_id: int) -> None:  # fmt: skip
        self.store, self.rng, self.now, self.consultants, self.manager_id = store, rng, now, consultants, manager_id
        self.hours = store.opening_hours or ""
        self.index_field = Lead._meta.get_field("mobile_index")
        self.leads: list[Lead] = []
        self.activities: list[list[LeadActivity]] = []
        self.lost: list[list[LostRequest]] = []
        self.visits: list[tuple[int, dt.datetime, bool, bool, bool]] = []  # lead index, at, drive, order, closes
        self.plans: list[DealPlan] = []
        self.today = timezone.localdate(now)

    def _at(self, days_ago: float) -> dt.datetime:
        day = self.today - dt.timedelta(days=int(days_ago))
        local = dt.datetime.combine(day, dt.time(self.rng.randint(8, 20), self.rng.randint(0, 59)))
        return timezone.make_aware(local)

    def build(self, count: int) -> None:
        rng = self.rng
        channels, weights = zip(*CHANNELS, strict=True)
        for n in range(count):
            # more leads lately (the store grew): ages skew towards the present
            days_ago = 1 + (HISTORY_DAYS - 1) * rng.random() ** 1.3
            arrived = self._at(days_ago)
            source = rng.choices(channels, weights)[0]
            uid = self.consultants[n % len(self.consultants)]
            lead = Lead(
                store=self.store, name=_name(rng), mobile=_mobile(self.store, 10_000 + n), consultant_id=uid,
                source_channel=source, model_interest=rng.choice(MODELS), message=rng.choice(MESSAGES),
                grade=rng.choice(("H", "A", "A", "B", "B", "C")), arrived_at=arrived, assigned_at=arrived,
                first_contact_due=add_business_minutes(arrived, 30, self.hours),
                campaign="双十一团购" if rng.random() < 0.06 else "", status=LeadStatus.NEW,
            )  # fmt: skip
            lead.mobile_index = self.index_field.compute(lead.mobile)
            lead.created_at = lead.updated_at = arrived
            acts: list[LeadActivity] = []
            losts: list[LostRequest] = []
            self.leads.append(lead)
            self.activities.append(acts)
            self.lost.append(losts)
            self._life(len(self.leads) - 1, lead, acts, losts, days_ago)

    def _act(self, acts: list[LeadActivity], lead: Lead, kind: str, at: dt.datetime, outcome: str = "",
             note: str = "", next_at: dt.datetime | None = None) -> None:  # fmt: skip
        a = LeadActivity(store=self.store, kind=kind, outcome=outcome, note=note, at=at, next_action_at=next_at,
                         user_id=lead.consultant_id)  # fmt: skip
        a.created_at = a.updated_at = at
        acts.append(a)
        if kind in (ActivityKind.CALL, ActivityKind.WECHAT, ActivityKind.SMS, ActivityKind.VISIT):
            lead.first_contact_at = lead.first_contact_at or at
            lead.last_touch_at = at
        lead.next_action_at = next_at

    def _life(self, i: int, lead: Lead, acts: list[LeadActivity], losts: list[LostRequest], days_ago: float) -> None:
        rng, now = self.rng, self.now
        if rng.random() < 0.04:  # never reached
            if days_ago < 20:
                return  # still new: an SLA breach on the manager's board
            self._lose(lead, losts, lead.arrived_at + dt.timedelta(days=rng.randint(3, 10)), "unreachable", acts)
            return
        touch = add_business_minutes(lead.arrived_at, _response_minutes(rng), self.hours)
        if touch >= now:
            touch = now - dt.timedelta(minutes=5)
        visits = rng.random() < VISIT_RATE.get(lead.source_channel, VISIT_RATE_DEFAULT)
        if lead.source_channel == LeadSource.WALK_IN:
            touch = lead.arrived_at  # met in the showroom
        follow = touch + dt.timedelta(days=rng.choice((1, 2, 3)))
        self._act(acts, lead, ActivityKind.VISIT if lead.source_channel == LeadSource.WALK_IN else ActivityKind.CALL,
                  touch, "appointment" if visits else rng.choice(("reached", "reached", "call_back", "no_answer")),
                  rng.choice(NOTES), follow)  # fmt: skip
        lead.status = LeadStatus.CONTACTED
        last = touch
        if visits:
            visit_at = touch if lead.source_channel == LeadSource.WALK_IN else touch + dt.timedelta(
                days=rng.randint(1, 8), hours=rng.randint(0, 4))  # fmt: skip
            if visit_at < now - dt.timedelta(hours=2):
                if lead.source_channel != LeadSource.WALK_IN:
                    self._act(acts, lead, ActivityKind.VISIT, visit_at, "reached", "到店看车",
                              visit_at + dt.timedelta(days=2))  # fmt: skip
                lead.status = LeadStatus.VISITED
                orders = rng.random() < ORDER_RATE
                drive = rng.random() < (0.8 if orders else 0.56)
                age = (now - visit_at).days
                closes = not orders and age > 45 and rng.random() < 0.9
                self.visits.append((i, visit_at, drive, orders, closes))
                last = visit_at
                if orders:
                    return  # the deal's walk closes it (won on delivery) or leaves it negotiating
                if closes:
                    self._lose(lead, losts, visit_at + dt.timedelta(days=rng.randint(5, 30)),
                               rng.choices(LOST_REASONS, LOST_WEIGHTS)[0], acts)  # fmt: skip
                    return
        # a lead that did not (yet) buy: follow-ups, then lost, returned, pending or left open
        age = (now - last).days
        for _ in range(rng.randint(0, 3)):
            at = last + dt.timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 6))
            if at >= now - dt.timedelta(hours=1):
                break
            self._act(acts, lead, rng.choice((ActivityKind.CALL, ActivityKind.WECHAT)), at,
                      rng.choice(("reached", "no_answer", "call_back")), rng.choice(NOTES),
                      at + dt.timedelta(days=rng.randint(1, 5)))  # fmt: skip
            last = at
        r = rng.random()
        decided = last + dt.timedelta(days=rng.randint(1, 10))
        if age > 60:
            if r < 0.88:
                self._lose(lead, losts, decided, rng.choices(LOST_REASONS, LOST_WEIGHTS)[0], acts)
            elif r < 0.94:
                self._returned(lead, losts, acts, decided)
            # else: left open with no touch since: a sleeping lead
            elif lead.status == LeadStatus.CONTACTED:
                lead.next_action_at = last + dt.timedelta(days=3)
        elif age > 7 and r < 0.25:
            if decided < now - dt.timedelta(hours=1):
                self._lose(lead, losts, decided, rng.choices(LOST_REASONS, LOST_WEIGHTS)[0], acts)
        elif age > 3 and r < 0.33:
            self._pending(lead, losts, last + dt.timedelta(hours=rng.randint(2, 48)))
        elif r < 0.40 and age > 10:
            self._returned(lead, losts, acts, min(decided, now - dt.timedelta(days=1)))
        elif lead.last_touch_at and (now - lead.last_touch_at).days < 10:
            # working leads: follow-ups due today, overdue ones, and later ones
            local = timezone.localtime(now)
            lead.next_action_at = rng.choice((
                local.replace(hour=rng.randint(9, 20), minute=rng.choice((0, 30)), second=0, microsecond=0),
                now - dt.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5)),
                now + dt.timedelta(days=rng.randint(1, 6)),
            ))  # fmt: skip

    def _request(
        self, lead: Lead, reason: str, at: dt.datetime, status: str, decided: dt.datetime | None
    ) -> LostRequest:
        req = LostRequest(store=self.store, reason=reason, note="客户已不考虑", status=status,
                          requested_by_id=lead.consultant_id, prior_status=lead.status,
                          decided_by_id=self.manager_id if decided else None, decided_at=decided,
                          decision_note="同意" if status == LostRequestStatus.APPROVED else
                          "客户仍有意向，继续跟进" if decided else "")  # fmt: skip
        req.created_at = at
        req.updated_at = decided or at
        return req

    def _lose(self, lead: Lead, losts: list[LostRequest], at: dt.datetime, reason: str,
              acts: list[LeadActivity]) -> None:  # fmt: skip
        at = min(at, self.now - dt.timedelta(hours=3))
        decided = at + dt.timedelta(hours=self.rng.randint(1, 30))
        decided = min(decided, self.now - dt.timedelta(hours=1))
        losts.append(self._request(lead, reason, at, LostRequestStatus.APPROVED, decided))
        self._act(acts, lead, ActivityKind.NOTE, decided, note="战败申请已批准：同意")
        lead.status, lead.closed_at, lead.next_action_at = LeadStatus.LOST, decided, None

    def _returned(self, lead: Lead, losts: list[LostRequest], acts: list[LeadActivity], at: dt.datetime) -> None:
        """A lost request the manager sent back (the lead was still alive): open again, with a
        follow-up the next day after the decision."""
        at = min(at, self.now - dt.timedelta(hours=3))
        decided = at + dt.timedelta(hours=self.rng.randint(1, 20))
        decided = min(decided, self.now - dt.timedelta(hours=1))
        losts.append(self._request(lead, self.rng.choice(("price", "no_longer_buying")), at,
                                   LostRequestStatus.RETURNED, decided))  # fmt: skip
        self._act(acts, lead, ActivityKind.NOTE, decided, note="战败申请被退回：客户仍有意向，继续跟进",
                  next_at=decided + dt.timedelta(days=1))  # fmt: skip
        if self.rng.random() < 0.5 and decided + dt.timedelta(days=1) < self.now:
            self._act(acts, lead, ActivityKind.CALL, decided + dt.timedelta(days=1), "reached", "重新激活，约到店",
                      decided + dt.timedelta(days=4))  # fmt: skip

    def _pending(self, lead: Lead, losts: list[LostRequest], at: dt.datetime) -> None:
        at = min(at, self.now - dt.timedelta(hours=1))
        losts.append(self._request(lead, self.rng.choices(LOST_REASONS, LOST_WEIGHTS)[0], at,
                                   LostRequestStatus.PENDING, None))  # fmt: skip
        lead.status, lead.next_action_at = LeadStatus.LOST_REQUESTED, None

    def save(self) -> int:
        Lead.objects.bulk_create(self.leads, batch_size=500)
        acts: list[LeadActivity] = []
        losts: list[LostRequest] = []
        for lead, a, lr in zip(self.leads, self.activities, self.lost, strict=True):
            for act in a:
                act.lead_id = lead.pk
                acts.append(act)
            for req in lr:
                req.lead_id = lead.pk
                losts.append(req)
        LeadActivity.objects.bulk_create(acts, batch_size=1000)
        LostRequest.objects.bulk_create(losts, batch_size=500)
        # returning owners: 2nd purchases of customers who bought through this demo appear in sales
        for i, visit_at, drive, orders, closes in self.visits:
            lead = self.leads[i]
            assert lead.pk is not None and lead.consultant_id is not None
            self.plans.append(DealPlan(
                lead_id=lead.pk, consultant_id=lead.consultant_id, visit_at=visit_at, test_drive=drive,
                target="order" if orders else ("test_drive" if drive else "visit"), closes=closes,
                model=lead.model_interest,
            ))  # fmt: skip
        return len(self.leads)


def _today(store: Store, *, rng: random.Random, now: dt.datetime, manager: Any, consultants: list[int]) -> int:
    """Today's work through the real services at the real time: new leads waiting for their first
    contact (deadline on the business-hours clock), two in the sales manager's queue, first
    contacts and a visit made this morning, and a lost request to decide."""
    made = 0
    channels = (LeadSource.AUTOHOME, LeadSource.DONGCHEDI, LeadSource.YICHE, LeadSource.WEB_FORM, LeadSource.OEM,
                LeadSource.PHONE)  # fmt: skip
    serial = 900
    for n in range(6):  # new, waiting: answered within minutes or late
        data = {"name": _name(rng), "mobile": _mobile(store, serial + n), "model_interest": rng.choice(MODELS),
                "message": rng.choice(MESSAGES), "source_channel": channels[n % len(channels)], "grade": "A"}  # fmt: skip
        made += lead_create(actor=manager, data=data, now=now - dt.timedelta(minutes=rng.randint(2, 25))).created
    for uid in consultants:  # nobody on duty for a moment: these two wait in the manager's queue
        duty_set(actor=manager, user_id=uid, status="off")
    rules_changed(store.pk)
    for n in range(2):
        data = {"name": _name(rng), "mobile": _mobile(store, serial + 10 + n), "model_interest": rng.choice(MODELS),
                "source_channel": LeadSource.DONGCHEDI}  # fmt: skip
        made += lead_create(actor=manager, data=data, now=now - dt.timedelta(minutes=rng.randint(30, 90))).created
    for uid in consultants:
        duty_set(actor=manager, user_id=uid, status="on_duty")
    rules_changed(store.pk)
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time(8, 40)))
    for n in range(6):  # arrived this morning (or just now, early in the day), contacted, one visited
        arrived = min(start + dt.timedelta(minutes=35 * n), now - dt.timedelta(minutes=30))
        data = {"name": _name(rng), "mobile": _mobile(store, serial + 20 + n), "model_interest": rng.choice(MODELS),
                "source_channel": channels[(n + 2) % len(channels)], "grade": "H" if n % 2 else "A"}  # fmt: skip
        intake = lead_create(actor=manager, data=data, now=arrived)
        made += intake.created
        lead = intake.lead
        if lead.consultant is None:
            continue
        actor = actor_build(user=lead.consultant, store_id=store.pk)
        touch = min(arrived + dt.timedelta(minutes=rng.randint(4, 25)), now - dt.timedelta(minutes=10))
        lead_activity_log(actor=actor, lead=lead, kind="call", outcome="appointment" if n < 2 else "reached",
                          note=rng.choice(NOTES), now=touch,
                          next_action_at=timezone.localtime(now).replace(hour=17, minute=30, second=0, microsecond=0))  # fmt: skip
        if n < 2:
            lead.refresh_from_db()
            lead_activity_log(actor=actor, lead=lead, kind="visit", outcome="reached", note="到店看车",
                              now=min(touch + dt.timedelta(minutes=40), now - dt.timedelta(minutes=5)))  # fmt: skip
        elif n == 5:
            lead.refresh_from_db()
            lost_request_create(actor=actor, lead=lead, reason="bought_competitor", note="客户已在别家订车")
    return made


def demo_leads_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: demo leads (and their deals) when the demo has customers (tests'
    bare demo gets none). 1,200 leads a store over two years with the default 2,000 customers."""
    customers = int(options.get("customers") or 0)
    if not customers:
        return
    for store in stores.values():
        demo_leads_store(store, count=min(1200, max(60, customers * 3 // 5)), seed=int(options.get("seed") or 42))
