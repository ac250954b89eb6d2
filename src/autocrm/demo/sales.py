"""Demo sales: per store, new-car stock of every age (some past the 60/90/120-day alerts), demo
cars, and the deals of the demo leads that came to the store (``demo.leads``' plans) over two
years: the ones that ordered walk through ``sales.services`` as their consultant (needs
analysis, test drive, quote — a few waiting for a manager's approval —, signed contract, finance
approval with the insurer, condition sheet and PDI, delivery, which registers the customer and
the car through the customer and vehicle services); a few later buyers come back for a second
car. Their dates are then moved back to when they happened (the services stamp "now"), so the
deal cycle, the gross profit per vehicle and the repurchase rate mean something.

Visitors who did not order get their deal in bulk (visit or test-drive stage, the test-drive
agreement as evidence, the drive done; lost when their lead was lost) — through the services
that would be most of the demo's time. Once per store."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import random
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from autocrm.accounts.models import Membership, User
from autocrm.accounts.selectors import actor_build
from autocrm.core import audit
from autocrm.core.errors import Conflict
from autocrm.core.identifiers import vin_with_check_digit
from autocrm.core.roles import Role
from autocrm.customers.models import TimelineEvent
from autocrm.leads.choices import LeadStatus
from autocrm.leads.models import Lead
from autocrm.sales import services
from autocrm.sales.choices import DealStatus, DocumentKind, Stage
from autocrm.sales.models import Deal, DealDocument, DealStageChange, Quote, StockVehicle, TestDrive
from autocrm.tenancy.models import Organization, Store
from autocrm.vehicles.models import Vehicle

if TYPE_CHECKING:
    from .leads import DealPlan

MODELS = {  # model: (class, list price, cost)
    "汉 EV 冠军版": ("sedan", "209800.00", "196000.00"),
    "唐 DM-i": ("SUV", "219800.00", "205500.00"),
    "宋 PLUS DM-i": ("SUV", "159800.00", "149000.00"),
    "秦 PLUS EV": ("sedan", "129800.00", "121500.00"),
    "海豹": ("sedan", "189800.00", "176500.00"),
}
PDF = b"%PDF-1.4\n% demo evidence\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LICENCES = ("11010519491231002X", "110105199208150037")
COMPETITORS = ("特斯拉 Model 3", "小鹏 P7", "丰田 凯美瑞", "大众 ID.4", "")
FINANCE_RATE = 0.55  # of buyers take a loan (the finance stage)
INSURANCE_RATE = 0.85  # buy their insurance through the store


def _vin(store: Store, serial: int) -> str:
    return vin_with_check_digit(f"LGXC{store.pk % 10}{'ABCDEFGH'[serial % 8]}6{serial % 10}JG{serial:06d}"[:16])


def _staff(store: Store, role: str) -> list[int]:
    return list(Membership.objects.filter(store=store, role=role, is_active=True).order_by("user_id")
                .values_list("user_id", flat=True))  # fmt: skip


class _Actors:
    def __init__(self, store: Store) -> None:
        self.store, self.cache = store, {}  # type: ignore[var-annotated]

    def __call__(self, user_id: int) -> Any:
        if user_id not in self.cache:
            self.cache[user_id] = actor_build(user=User.objects.get(pk=user_id), store_id=self.store.pk)
        return self.cache[user_id]


def demo_sales_store(
    store: Store, *, seed: int = 42, plans: list[DealPlan] | None = None, deals: int = 0,
    now: dt.datetime | None = None,
) -> int:  # fmt: skip
    """Stock and the deals of ``plans`` for one store; returns the number of deals made (0 when
    it has some). Without plans (a store whose leads were made elsewhere) ``deals`` demo leads
    are made first (``demo.leads``) and their visitors' plans used."""
    if Deal.objects.filter(store=store).exists():
        return 0
    if plans is None:
        from .leads import demo_leads_store

        plans = demo_leads_store(store, count=max(60, deals * 16), seed=seed, now=now, with_deals=False).plans
    consultants, managers = _staff(store, Role.SALES), _staff(store, Role.SALES_MANAGER)
    if not consultants or not managers:
        return 0
    now = now or timezone.now()
    rng = random.Random(seed + store.pk)
    actors = _Actors(store)
    keeper = actors(managers[0])
    approver = actors((_staff(store, Role.MANAGER) or managers)[0])
    finance = [actors(uid) for uid in _staff(store, Role.FINANCE)] or [keeper]
    with audit.acting_as(None):
        walker = _Walker(store, rng=rng, now=now, keeper=keeper, approver=approver, finance=finance[0])
        walker.stock()
        plans = sorted(plans, key=lambda p: p.visit_at)
        ordered = [p for p in plans if p.target == Stage.ORDER]
        others = [p for p in plans if p.target != Stage.ORDER]
        # the latest visitors who did not order yet: some at the quote stage, through the services
        recent = [p for p in others if not p.closes and (now - p.visit_at).days < 40]
        quoting = {id(p) for p in recent[-max(2, len(recent) // 4) :]}
        for n, plan in enumerate(ordered):
            # the latest two delivered this week, the one before waiting at the finance stage, the one
            # before that ordered and waiting for its car (so every stage has a deal whatever the hour)
            walker.walk(actors(plan.consultant_id), plan, last=n >= len(ordered) - 2, hold=n == len(ordered) - 3,
                        at_order=n == len(ordered) - 4)  # fmt: skip
        for plan in others:
            if id(plan) in quoting:
                walker.walk(actors(plan.consultant_id), plan, target=Stage.QUOTE)
        walker.bulk([p for p in others if id(p) not in quoting], actors)
        walker.todays_drives(actors)
    return walker.made


class _Walker:
    def __init__(self, store: Store, *, rng: random.Random, now: dt.datetime, keeper: Any, approver: Any,
                 finance: Any) -> None:  # fmt: skip
        self.store, self.rng, self.now = store, rng, now
        self.keeper, self.approver, self.finance = keeper, approver, finance
        self.made = 0
        self.serial = 1000 * store.pk
        self.demo_cars: list[StockVehicle] = []
        self.buyers: list[tuple[int, int]] = []  # (customer, consultant) of deliveries, for second purchases

    def _car(self, model: str, *, arrival: dt.date, status: str = "in_stock") -> StockVehicle:
        self.serial += 1
        cls, price, cost = MODELS.get(model, MODELS["汉 EV 冠军版"])
        return services.stock_create(actor=self.keeper, data={
            "vin": _vin(self.store, self.serial), "model_name": model, "vehicle_class": cls,
            "colour": self.rng.choice(("白", "黑", "灰", "蓝", "红")), "arrival_date": arrival,
            "list_price": price, "cost": cost, "status": status,
        })  # fmt: skip

    def stock(self) -> None:
        """Three demo cars and the cars on the lot, of every age (some past the ageing alerts)."""
        today = timezone.localdate(self.now)
        names = list(MODELS)
        self.demo_cars = [self._car(names[i], arrival=today - dt.timedelta(days=400), status="demo") for i in range(3)]
        for n in range(24):
            age = self.rng.choice((3, 12, 25, 40, 58, 65, 75, 95, 110, 130))
            self._car(names[n % len(names)], arrival=today - dt.timedelta(days=age))

    def walk(
        self,
        actor: Any,
        plan: DealPlan,
        *,
        target: str = Stage.ORDER,
        last: bool = False,
        hold: bool = False,
        at_order: bool = False,
    ) -> None:
        """One deal through the services, then its dates moved back to when it happened."""
        rng, now = self.rng, self.now
        lead = Lead.objects.get(pk=plan.lead_id)
        order_at = plan.visit_at + dt.timedelta(days=rng.choice((0, 0, 1, 3, 7, 12)), hours=rng.randint(1, 3))
        deliver_at = order_at + dt.timedelta(days=rng.randint(8, 35), hours=rng.randint(0, 5))
        if last and order_at < now - dt.timedelta(hours=3):
            deliver_at = max(order_at + dt.timedelta(hours=2), now - dt.timedelta(hours=rng.randint(1, 2)))
        if order_at >= now:
            order_at = now - dt.timedelta(minutes=30)
        delivers = target == Stage.ORDER and deliver_at < now and not hold and not at_order
        repeat = None
        mine = [b for b in self.buyers if b[1] == plan.consultant_id]
        if delivers and mine and rng.random() < 0.1 and (now - plan.visit_at).days < 365:
            self.buyers.remove(mine[0])  # a customer who bought a year or more ago comes back for another car
            repeat = mine[0][0]
            Lead.objects.filter(pk=lead.pk).update(customer_id=repeat)
            lead.customer_id = repeat
        car = None
        if target == Stage.ORDER:
            car = self._car(plan.model, arrival=timezone.localdate(order_at) - dt.timedelta(days=rng.randint(5, 80)))
        deal = services.deal_create(actor=actor, data={"model_interest": plan.model,
                                    **({"purchase_type": "additional"} if repeat else {})},
                                    lead=lead, stock_vehicle=car)  # fmt: skip
        self.made += 1
        sensitive = rng.random() < 0.4
        _cls, price, _cost = MODELS.get(plan.model, MODELS["汉 EV 冠军版"])
        services.needs_save(actor=actor, deal=deal, data={
            "budget_min": str(int(float(price) * 0.7)), "budget_max": str(int(float(price) * (0.85 if sensitive
            else 1.1))), "purpose": rng.choice(("family", "commute", "business")), "fuel_preference": "electric",
            "brands_considered": [c.split(" ")[0] for c in COMPETITORS if c][: rng.randint(0, 3)],
            "purchase_type": "additional" if repeat else rng.choice(("first", "first", "replacement")),
            "price_sensitivity": "high" if sensitive else "low",
        })  # fmt: skip
        at = {Stage.CONTACT: lead.first_contact_at or plan.visit_at, Stage.VISIT: plan.visit_at,
              Stage.TEST_DRIVE: plan.visit_at + dt.timedelta(minutes=30),
              Stage.QUOTE: plan.visit_at + dt.timedelta(minutes=90), Stage.ORDER: order_at,
              Stage.FINANCE: order_at + dt.timedelta(days=1), Stage.DELIVERY: deliver_at}  # fmt: skip
        latest = now - dt.timedelta(minutes=10)
        at = {stage: min(when, latest) for stage, when in at.items()}
        financed = (rng.random() < FINANCE_RATE or hold) and not at_order
        stages = [Stage.VISIT]
        if plan.test_drive:
            stages.append(Stage.TEST_DRIVE)
        stages.append(Stage.QUOTE)
        if target == Stage.ORDER:
            stages.append(Stage.ORDER)
            if financed:
                stages.append(Stage.FINANCE)
            if delivers:
                stages.append(Stage.DELIVERY)
        quote = None
        for stage in stages:
            if deal.stage == stage:
                continue
            if stage == Stage.TEST_DRIVE:
                services.document_upload(actor=actor, deal=deal, kind=DocumentKind.TEST_DRIVE_AGREEMENT, file=PDF,
                                         name="试驾协议.pdf")  # fmt: skip
                start = at[Stage.TEST_DRIVE].replace(second=0, microsecond=0)
                with contextlib.suppress(Conflict):  # that slot of the demo car may be taken: no drive then
                    services.test_drive_book(actor=actor, deal=deal, vehicle=rng.choice(self.demo_cars), data={
                        "starts_at": start, "ends_at": start + dt.timedelta(minutes=45), "route": "城市道路 + 快速路",
                        "licence_number": rng.choice(LICENCES), "competitor": rng.choice(COMPETITORS),
                        "price_sensitivity": "high" if sensitive else "medium", "feedback": "加速满意，关注续航",
                    })  # fmt: skip
            elif stage == Stage.QUOTE:
                discount = rng.choice(("3000", "5000", "8000", "12000")) if sensitive else rng.choice(("1000", "2000"))
                quote = services.quote_create(actor=actor, deal=deal, data={
                    "vehicle_price": price, "discount": discount,
                    "insurance": "6800.00" if rng.random() < INSURANCE_RATE else "0",
                    "down_payment": str(int(float(price) * 0.3)) if financed else "0",
                    "term_months": rng.choice((24, 36, 60)) if financed else 0,
                    "annual_rate": rng.choice(("0", "2.99", "3.5")) if financed else "0",
                })  # fmt: skip
                if quote.status == "pending_approval":
                    if target == Stage.QUOTE and rng.random() < 0.5:
                        break  # left waiting in the manager's approval queue
                    services.quote_approve(actor=self.keeper if quote.discount <= 10000 else self.approver, quote=quote)
            elif stage == Stage.ORDER:
                services.document_upload(actor=actor, deal=deal, kind=DocumentKind.CONTRACT, file=PDF, name="合同.pdf")
            elif stage == Stage.DELIVERY:
                if deal.stage == Stage.FINANCE:
                    services.deal_finance_approve(actor=self.finance, deal=deal,
                                                  insurer=rng.choice(("中国人保", "平安保险", "太平洋保险")))  # fmt: skip
                services.document_upload(actor=actor, deal=deal, kind=DocumentKind.CONDITION_SHEET, file=PDF,
                                         name="车况确认单.pdf")  # fmt: skip
                services.document_upload(actor=actor, deal=deal, kind=DocumentKind.PDI, file=PDF, name="PDI.pdf")
            deal = services.deal_advance(actor=actor, deal=deal, to_stage=stage)
        if hold and deal.stage == Stage.FINANCE:
            services.deal_finance_approve(actor=self.finance, deal=deal, insurer="中国人保")
        self._backdate(deal, at, quote)
        if deal.status == DealStatus.WON and deal.customer_id and repeat is None:
            self.buyers.append((deal.customer_id, plan.consultant_id))
        elif deal.status != DealStatus.WON:
            Lead.objects.filter(pk=lead.pk, status__in=(LeadStatus.CONTACTED, LeadStatus.VISITED)).update(
                status=LeadStatus.NEGOTIATING
            )

    def _backdate(self, deal: Deal, at: dict[Any, dt.datetime], quote: Quote | None) -> None:
        """The services stamped now: move the deal's history back to when it happened."""
        deal.refresh_from_db()
        stamp = at[deal.stage]
        Deal.objects.filter(pk=deal.pk).update(
            created_at=at[Stage.VISIT], stage_entered_at=stamp, updated_at=stamp,
            delivered_at=at[Stage.DELIVERY] if deal.status == DealStatus.WON else None,
            finance_approved_at=at[Stage.FINANCE] + dt.timedelta(days=2) if deal.finance_approved_at else None,
        )  # fmt: skip
        for change in DealStageChange.objects.filter(deal=deal):
            DealStageChange.objects.filter(pk=change.pk).update(at=at.get(change.to_stage, stamp))
        if quote is not None:
            Quote.objects.filter(deal=deal).update(
                created_at=at[Stage.QUOTE],
                approved_at=at[Stage.QUOTE] + dt.timedelta(minutes=20) if quote.status != "pending_approval" else None,
            )  # fmt: skip
        TestDrive.objects.filter(deal=deal, starts_at__lt=self.now).update(status="done")
        DealDocument.objects.filter(deal=deal).update(created_at=at[Stage.VISIT])
        if deal.status == DealStatus.WON:
            delivered = at[Stage.DELIVERY]
            day = timezone.localdate(delivered)
            Lead.objects.filter(pk=deal.lead_id or 0).update(closed_at=delivered)
            Vehicle.objects.filter(pk=deal.vehicle_id or 0).update(purchase_date=day, delivery_date=day)
            TimelineEvent.objects.filter(object_type="sales.deal", object_id=str(deal.pk)).update(at=delivered)

    def bulk(self, plans: list[DealPlan], actors: _Actors) -> None:
        """The deals of visitors who did not order: at the visit or test-drive stage (with the
        agreement as evidence and the drive done), lost when their lead was."""
        if not plans:
            return
        # one agreement file stored through the upload service; the bulk deals' rows share it
        sample = Deal.objects.create(store=self.store, name="—", consultant_id=plans[0].consultant_id)
        agreement = services.document_upload(actor=self.keeper, deal=sample, kind=DocumentKind.TEST_DRIVE_AGREEMENT,
                                             file=PDF, name="试驾协议.pdf")  # fmt: skip
        owner: Deal | None = None
        leads = {lead.pk: lead for lead in Lead.objects.filter(pk__in=[p.lead_id for p in plans])}
        deals = []
        for plan in plans:
            lead = leads[plan.lead_id]
            stage = Stage.TEST_DRIVE if plan.test_drive else Stage.VISIT
            closed = lead.status == LeadStatus.LOST
            d = Deal(store=self.store, lead=lead, customer_id=lead.customer_id, consultant_id=plan.consultant_id,
                     name=lead.name, model_interest=plan.model, stage=stage,
                     status=DealStatus.LOST if closed else DealStatus.OPEN,
                     stage_entered_at=plan.visit_at + (dt.timedelta(minutes=30) if plan.test_drive else dt.timedelta()))  # fmt: skip
            d.created_at = plan.visit_at
            d.updated_at = lead.closed_at or d.stage_entered_at
            deals.append(d)
        Deal.objects.bulk_create(deals, batch_size=500)
        changes: list[DealStageChange] = []
        docs: list[DealDocument] = []
        drives: list[TestDrive] = []
        for plan, d in zip(plans, deals, strict=True):
            path = [Stage.CONTACT, Stage.VISIT] + ([Stage.TEST_DRIVE] if plan.test_drive else [])
            for before, after in itertools.pairwise(path):
                at = plan.visit_at + (dt.timedelta(minutes=30) if after == Stage.TEST_DRIVE else dt.timedelta())
                c = DealStageChange(store=self.store, deal=d, from_stage=before, to_stage=after, skipped=[],
                                    by_id=plan.consultant_id, at=at)  # fmt: skip
                c.created_at = c.updated_at = at
                changes.append(c)
            if plan.test_drive and owner is None:
                owner = d  # takes the stored agreement itself
            elif plan.test_drive:
                doc = DealDocument(store=self.store, deal=d, kind=agreement.kind, path=agreement.path,
                                   content_type=agreement.content_type, size=agreement.size, sha256=agreement.sha256,
                                   name=agreement.name, uploaded_by_id=plan.consultant_id)  # fmt: skip
                doc.created_at = doc.updated_at = plan.visit_at
                docs.append(doc)
            if plan.test_drive:
                start = plan.visit_at + dt.timedelta(minutes=30)
                drives.append(TestDrive(
                    store=self.store, deal=d, vehicle=self.demo_cars[len(drives) % len(self.demo_cars)],
                    route="城市道路 + 快速路", starts_at=start, ends_at=start + dt.timedelta(minutes=40), status="done",
                    licence_number=LICENCES[len(drives) % 2], feedback=self.rng.choice(("空间满意", "觉得偏贵", "关注续航")),
                    competitor=self.rng.choice(COMPETITORS), price_sensitivity=self.rng.choice(("low", "medium", "high")),
                ))  # fmt: skip
        DealStageChange.objects.bulk_create(changes, batch_size=1000)
        DealDocument.objects.bulk_create(docs, batch_size=1000)
        TestDrive.objects.bulk_create(drives, batch_size=1000)
        if owner is not None:
            DealDocument.objects.filter(pk=agreement.pk).update(deal=owner)
        else:
            DealDocument.objects.filter(pk=agreement.pk).delete()
        sample.delete()
        self.made += len(deals)

    def todays_drives(self, actors: _Actors) -> None:
        """Test drives booked for today: the leads that visited this morning (``demo.leads``'
        today's work) get a deal and a drive this afternoon."""
        today = timezone.localdate(self.now)
        start = timezone.make_aware(dt.datetime.combine(today, dt.time(0)))
        visited = Lead.objects.filter(store=self.store, status=LeadStatus.VISITED, arrived_at__gte=start).order_by("pk")
        for n, lead in enumerate(visited[:2]):  # scoped: the demo's own store
            actor = actors(lead.consultant_id) if lead.consultant_id else None
            if actor is None:
                continue
            deal = services.deal_create(actor=actor, data={"model_interest": lead.model_interest}, lead=lead)
            deal = services.deal_advance(actor=actor, deal=deal, to_stage=Stage.VISIT)
            services.document_upload(actor=actor, deal=deal, kind=DocumentKind.TEST_DRIVE_AGREEMENT, file=PDF,
                                     name="试驾协议.pdf")  # fmt: skip
            at = timezone.make_aware(dt.datetime.combine(today, dt.time(15 + n, 30 * n)))
            with contextlib.suppress(Conflict):
                services.test_drive_book(actor=actor, deal=deal, vehicle=self.demo_cars[n], data={
                    "starts_at": at, "ends_at": at + dt.timedelta(minutes=45), "route": "城市道路 + 快速路",
                    "licence_number": LICENCES[n], "competitor": "", "price_sensitivity": "medium",
                })  # fmt: skip
            self.made += 1


def demo_sales_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: the deals come with the demo leads (``demo.leads``); a store whose
    leads hook did not run gets its own (with the generated customers only)."""
    deals = min(40, int(options.get("customers") or 0) // 50)
    if not deals:
        return
    for store in stores.values():
        demo_sales_store(store, seed=int(options.get("seed") or 42), deals=deals)
