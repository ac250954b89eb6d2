"""Sales in the inherited role × scope matrix (autocrm.core.testing): every page and API
operation, as every role, on a deal of the actor's own, of a colleague's, of another store's,
and a missing one. Documents, test drives and the rest follow the deal's rule; quotes have
their own table (approval); stock is the store's."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from autocrm.core.testing import ACTOR_OF_ROLE, MultistoreMatrix, Op
from autocrm.customers.models import Customer
from autocrm.leads.models import Lead
from autocrm.sales.models import Deal, Quote, SalesScript, StockVehicle
from autocrm.sales.models import TestDrive as Drive

from .factories import LICENCE, new_vin

D, Q, S, TD = "sales.deal", "sales.quote", "sales.stockvehicle", "sales.testdrive"
SC, L, C = "sales.salesscript", "leads.lead", "customers.customer"
_serial = itertools.count(1)


def build_deal(store, owner):
    return Deal.objects.create(store=store, consultant=owner, name="矩阵客户", model_interest="汉 EV")


def build_stock(store, owner):
    return StockVehicle.objects.create(store=store, vin=new_vin(), model_name="汉 EV", status="demo",
                                       arrival_date=timezone.localdate() - dt.timedelta(days=95),
                                       cost=Decimal("180000"))  # fmt: skip


def build_quote(store, owner):
    return Quote.objects.create(store=store, deal=build_deal(store, owner), vehicle_price=Decimal("200000"),
                                discount=Decimal("5000"), total_price=Decimal("195000"),
                                status="pending_approval")  # fmt: skip


def build_test_drive(store, owner):
    start = timezone.now() + dt.timedelta(days=next(_serial))
    return Drive.objects.create(store=store, deal=build_deal(store, owner), vehicle=build_stock(store, owner),
                                    starts_at=start, ends_at=start + dt.timedelta(hours=1),
                                    licence_number=LICENCE)  # fmt: skip


def build_script(store, owner):
    return SalesScript.objects.create(store=store, objection="太贵了", answer="先算落地价", tags=["价格"])


def build_lead(store, owner):
    return Lead.objects.create(store=store, name="矩阵线索", consultant=owner, mobile=f"1375{next(_serial):07d}")


def build_customer(store, owner):
    return Customer.objects.create(store=store, name="矩阵客户", consultant=owner, mobile=f"1376{next(_serial):07d}")


def _own_deal(world, role):
    return build_deal(world.stores["a"], world.users[ACTOR_OF_ROLE[role]])


def new_deal(world, role):
    lead = Lead.objects.create(store=world.stores["a"], consultant=world.users[ACTOR_OF_ROLE[role]], name="矩阵",
                               mobile=f"1374{next(_serial):07d}")  # fmt: skip
    return {"lead": lead.pk}


def new_test_drive(world, role):
    start = timezone.now() + dt.timedelta(days=400 + next(_serial))
    car = build_stock(world.stores["a"], None)
    return {"deal": _own_deal(world, role).pk, "vehicle": car.pk, "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(), "licence_number": LICENCE}  # fmt: skip


def new_quote(world, role):
    return {"deal": _own_deal(world, role).pk, "vehicle_price": "200000.00"}


def new_stock(world, role):
    return {"vin": new_vin(), "model_name": "汉 EV", "arrival_date": "2026-01-05"}


class TestSalesMultistore(MultistoreMatrix):
    builders = {D: build_deal, Q: build_quote, S: build_stock, TD: build_test_drive, SC: build_script,
                L: build_lead, C: build_customer}  # fmt: skip
    namespaces = ["sales"]
    api_prefixes = ["/deals", "/test-drives", "/quotes", "/stock", "/sales-scripts"]
    ops = [
        Op("sales:deal_list", D, "view", record=False),
        Op("sales:deal_detail", D, "view"),
        Op("sales:deal_advance", D, "advance", method="POST", ok=302, fresh=True),
        # past the checks, an empty form is refused with a message on the deal's page
        Op("sales:deal_points", D, "change", method="POST", ok=302),
        Op("sales:deal_cancel", D, "change", method="POST", ok=302, fresh=True),
        # allowed: past the checks, an empty form is refused with a message on the deal's page
        Op("sales:test_drive_book", D, "change", method="POST", ok=302),
        Op("sales:quote_create", D, "view", method="POST", ok=302, also_needs=((Q, "add"),)),
        Op("sales:stock_list", S, "view", record=False),
        # past the checks, an empty form is refused with a message on the deal's page
        Op("sales:deal_update", D, "change", method="POST", ok=302),
        Op("sales:needs_save", D, "change", method="POST", ok=302, data={"purpose": "family"}),
        Op("sales:trade_in_create", D, "change", method="POST", ok=302),
        # a deal at the lead stage has no finance to approve: refused with a message
        Op("sales:deal_finance", D, "finance", method="POST", ok=302),
        Op("sales:deal_from_lead", L, "view", method="POST", ok=302, fresh=True, also_needs=((D, "add"),)),
        Op("sales:quote_queue", Q, "approve", record=False),
        Op("sales:quote_decide", Q, "approve", method="POST", ok=302, fresh=True, data={"decision": "reject"}),
        Op("sales:customer_purchases", C, "view", also_needs=((D, "view"),)),
        Op("sales:script_list", SC, "view", record=False),
        Op("sales:script_search", SC, "view", record=False),
        Op("/sales-scripts", SC, "view", api=True, record=False),
        Op(
            "/sales-scripts",
            SC,
            "add",
            api=True,
            record=False,
            method="POST",
            ok=201,
            data={"objection": "续航虚标", "answer": "冬季实测七成"},
        ),
        Op("/sales-scripts/{pk}", SC, "view", api=True),
        Op("/sales-scripts/{pk}", SC, "change", api=True, method="PATCH", data={"answer": "先试驾"}),
        Op("/sales-scripts/{pk}", SC, "delete", api=True, method="DELETE", ok=204, fresh=True),
        Op("sales:stock_prospects", S, "export"),
        Op("/deals", D, "view", api=True, record=False),
        Op("/deals", D, "add", api=True, record=False, method="POST", ok=201, data=new_deal),
        Op("/deals/{pk}", D, "view", api=True),
        Op("/deals/{pk}", D, "change", api=True, method="PATCH", data={"agreed_price": "199000.00"}),
        Op("/deals/{pk}/advance", D, "advance", api=True, method="POST", fresh=True),
        # allowed: past the permission check, a deal at the lead stage has no finance to approve
        Op("/deals/{pk}/finance-approval", D, "finance", api=True, method="POST", ok=409),
        Op("/deals/{pk}/needs-analysis", D, "change", api=True, method="POST", data={"purpose": "family"}),
        Op(
            "/deals/{pk}/trade-ins",
            D,
            "change",
            api=True,
            method="POST",
            ok=201,
            data={"model_name": "朗逸", "offered_price": "30000"},
        ),
        Op("/test-drives", TD, "view", api=True, record=False),
        Op("/test-drives", TD, "add", api=True, record=False, method="POST", ok=201, data=new_test_drive),
        Op("/test-drives/{pk}", TD, "view", api=True),
        Op("/test-drives/{pk}", TD, "change", api=True, method="PATCH", data={"feedback": "加速好"}),
        Op("/quotes", Q, "view", api=True, record=False),
        Op("/quotes", Q, "add", api=True, record=False, method="POST", ok=201, data=new_quote),
        Op("/quotes/{pk}", Q, "view", api=True),
        Op("/quotes/{pk}/approve", Q, "approve", api=True, method="POST", fresh=True),
        Op("/quotes/{pk}/reject", Q, "approve", api=True, method="POST", fresh=True),
        Op("/stock", S, "view", api=True, record=False),
        Op("/stock", S, "add", api=True, record=False, method="POST", ok=201, data=new_stock),
        Op("/stock/{pk}", S, "view", api=True),
        Op("/stock/{pk}/prospects", S, "export", api=True),
    ]
    exempt = {
        "POST /api/v1/deals/{deal_id}/documents": "multipart upload; roles and scope in test_api and test_views",
        "GET /api/v1/deals/{deal_id}/documents/{document_id}": "two records per call (deal, document); test_api",
        "sales:document_upload": "multipart upload; roles and scope in test_views",
        "sales:document_download": "two records per call (deal, document); test_views",
        "sales:stock_export": "the CSV of sales:stock_prospects (same selector and check)",
        "POST /api/v1/deals/{deal_id}/points": "the deal read as sales:deal_points reads it (deal_get, change)",
        "POST /api/v1/deals/{deal_id}/cancel": "the deal read as sales:deal_cancel reads it (deal_get, change)",
    }
