"""Demo sales: per store, new-car stock of every age (some past the 60/90/120-day alerts), demo
cars, and deals in every stage — with their needs analyses, test drives, quotes (a few waiting
for a manager's approval), evidence files and deliveries — made through ``sales.services`` as the
store's consultants, so the deal list, a deal's page and the stock page show real figures on a
fresh ``make run``. Runs with the generated customers (``--customers`` > 0) and once per store."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from typing import Any

from django.utils import timezone

from autocrm.accounts.models import Membership, User
from autocrm.accounts.selectors import actor_build
from autocrm.core import audit
from autocrm.core.errors import Conflict
from autocrm.core.identifiers import vin_with_check_digit
from autocrm.core.roles import Role
from autocrm.leads.models import Lead
from autocrm.sales import services
from autocrm.sales.choices import STAGE_ORDER, DocumentKind, Stage
from autocrm.sales.models import Deal, StockVehicle
from autocrm.tenancy.models import Organization, Store

MODELS = (  # (model, class, list price, cost)
    ("汉 EV 冠军版", "sedan", "209800.00", "188000.00"),
    ("唐 DM-i", "SUV", "219800.00", "199500.00"),
    ("宋 PLUS DM-i", "SUV", "159800.00", "146000.00"),
    ("秦 PLUS EV", "sedan", "129800.00", "119000.00"),
    ("海豹", "sedan", "189800.00", "171000.00"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "涛", "明", "超", "霞")
PDF = b"%PDF-1.4\n% demo evidence\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LICENCES = ("11010519491231002X", "110105199208150037")
COMPETITORS = ("特斯拉 Model 3", "小鹏 P7", "丰田 凯美瑞", "大众 ID.4", "")


def _vin(store: Store, serial: int) -> str:
    return vin_with_check_digit(f"LGXC{store.pk % 10}{'ABCDEFGH'[serial % 8]}6{serial % 10}JG{serial:06d}"[:16])


def _actor(user_id: int, store: Store) -> Any:
    return actor_build(user=User.objects.get(pk=user_id), store_id=store.pk)


def _staff(store: Store, role: str) -> list[int]:
    return list(Membership.objects.filter(store=store, role=role, is_active=True).order_by("user_id")
                .values_list("user_id", flat=True))  # fmt: skip


def demo_sales_store(store: Store, *, seed: int = 42, deals: int = 40) -> int:
    """Stock and deals for one store; returns the number of deals made (0 when it has some)."""
    if Deal.objects.filter(store=store).exists():
        return 0
    rng = random.Random(seed + store.pk)
    consultants = _staff(store, Role.SALES)
    managers = _staff(store, Role.SALES_MANAGER)
    finance = _staff(store, Role.FINANCE)
    if not consultants or not managers:
        return 0
    keeper = _actor(managers[0], store)
    today = timezone.localdate()
    stock: list[StockVehicle] = []
    for serial in range(1, min(30, 4 + 2 * deals) + 1):
        model, cls, price, cost = MODELS[serial % len(MODELS)]
        age = rng.choice((3, 12, 25, 40, 58, 65, 75, 95, 110, 130))
        stock.append(services.stock_create(actor=keeper, data={
            "vin": _vin(store, serial + 1000 * store.pk), "model_name": model, "vehicle_class": cls,
            "colour": rng.choice(("白", "黑", "灰", "蓝", "红")), "arrival_date": today - dt.timedelta(days=age),
            "list_price": price, "cost": cost, "status": "demo" if serial <= 3 else "in_stock",
        }))  # fmt: skip
    demo_cars = stock[:3]
    for_sale = stock[3:]
    made = 0
    for n in range(deals):
        consultant_id = consultants[n % len(consultants)]
        actor = _actor(consultant_id, store)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN))
        offer = MODELS[n % len(MODELS)]
        target = STAGE_ORDER[n % len(STAGE_ORDER)] if n < 32 else rng.choice(STAGE_ORDER[:6])
        car = for_sale.pop() if target in (Stage.ORDER, Stage.FINANCE, Stage.DELIVERY) and for_sale else None
        lead = Lead.objects.create(store=store, name=name, mobile=f"199{store.pk % 10}{seed % 10}{n:06d}",
                                   consultant_id=consultant_id, source_channel=rng.choice(("autohome", "walk_in",
                                   "dongchedi", "referral")), model_interest=offer[0])  # fmt: skip
        deal = services.deal_create(actor=actor, data={"model_interest": offer[0]}, lead=lead, stock_vehicle=car)
        made += 1
        sensitive = rng.random() < 0.4
        services.needs_save(actor=actor, deal=deal, data={
            "budget_min": str(int(float(offer[2]) * 0.7)), "budget_max": str(int(float(offer[2]) * (0.85 if sensitive
            else 1.1))), "purpose": rng.choice(("family", "commute", "business")), "fuel_preference": "electric",
            "brands_considered": [c.split(" ")[0] for c in COMPETITORS if c][: rng.randint(0, 3)],
            "purchase_type": rng.choice(("first", "additional", "replacement")),
            "price_sensitivity": "high" if sensitive else "low",
        })  # fmt: skip
        _walk(actor, deal, target, store=store, rng=rng, demo_cars=demo_cars, model=offer, keeper=keeper,
              finance=finance, sensitive=sensitive)  # fmt: skip
    # deliveries spread over the past two years, so the deal cycle and repurchase figures mean something
    for i, deal in enumerate(Deal.objects.filter(store=store, status="won").order_by("pk")):
        Deal.objects.filter(pk=deal.pk).update(delivered_at=timezone.now() - dt.timedelta(days=30 + 47 * i))
    return made


def _walk(actor: Any, deal: Deal, target: str, *, store: Store, rng: random.Random, demo_cars: list[StockVehicle],
          model: tuple[str, str, str, str], keeper: Any, finance: list[int], sensitive: bool) -> None:  # fmt: skip
    """Move a deal to ``target`` the way a consultant does, with each stage's evidence."""
    for stage in STAGE_ORDER[1 : STAGE_ORDER.index(target) + 1]:
        if stage == Stage.TEST_DRIVE:
            services.document_upload(actor=actor, deal=deal, kind=DocumentKind.TEST_DRIVE_AGREEMENT, file=PDF,
                                     name="试驾协议.pdf")  # fmt: skip
            start = timezone.now() - dt.timedelta(days=rng.randint(1, 300), hours=rng.randint(0, 200))
            start = start.replace(minute=0, second=0, microsecond=0)
            # that hour of the demo car may be taken (409): the drive is then simply not in the demo
            with contextlib.suppress(Conflict):
                services.test_drive_book(actor=actor, deal=deal, vehicle=rng.choice(demo_cars), data={
                    "starts_at": start, "ends_at": start + dt.timedelta(minutes=45), "route": "城市道路 + 快速路",
                    "licence_number": rng.choice(LICENCES), "competitor": rng.choice(COMPETITORS),
                    "price_sensitivity": "high" if sensitive else "medium", "feedback": "加速满意，关注续航",
                })  # fmt: skip
        elif stage == Stage.QUOTE:
            discount = rng.choice(("2000", "3000", "6000", "12000")) if sensitive else "1000"
            quote = services.quote_create(actor=actor, deal=deal, data={
                "vehicle_price": model[2], "discount": discount, "insurance": "6800.00", "down_payment": "60000",
                "term_months": rng.choice((24, 36, 60)), "annual_rate": rng.choice(("0", "2.99", "3.5")),
            })  # fmt: skip
            if quote.status == "pending_approval":
                approver = keeper if quote.discount <= 10000 else _actor(_staff(store, Role.MANAGER)[0], store)
                if target == Stage.QUOTE and rng.random() < 0.5:
                    return  # left waiting in the manager's approval queue
                services.quote_approve(actor=approver, quote=quote)
        elif stage == Stage.ORDER:
            services.document_upload(actor=actor, deal=deal, kind=DocumentKind.CONTRACT, file=PDF, name="合同.pdf")
        elif stage == Stage.DELIVERY:
            if finance:
                services.deal_finance_approve(actor=_actor(finance[0], store), deal=deal, insurer="中国人保")
            services.document_upload(actor=actor, deal=deal, kind=DocumentKind.CONDITION_SHEET, file=PDF,
                                     name="车况确认单.pdf")  # fmt: skip
            services.document_upload(actor=actor, deal=deal, kind=DocumentKind.PDI, file=PDF, name="PDI.pdf")
        deal = services.deal_advance(actor=actor, deal=deal, to_stage=stage)


def demo_sales_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: sales demo data with the generated customers (not in the bare test demo)."""
    # One deal per 50 generated customers, at most 40 a store: the default demo (2,000 customers)
    # gets 40, the small demos of tests none or one, so they stay fast.
    deals = min(40, int(options.get("customers") or 0) // 50)
    if not deals:
        return
    with audit.acting_as(None):
        for store in stores.values():
            demo_sales_store(store, seed=int(options.get("seed") or 42), deals=deals)
