"""Test data for sales, made through the services (a lead row directly: leads' intake belongs to
the leads app)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from autocrm.core.actor import Actor
from autocrm.core.identifiers import vin_with_check_digit
from autocrm.leads.models import Lead
from autocrm.sales import services
from autocrm.sales.models import Deal, StockVehicle

_seq = itertools.count(1)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
LICENCE = "11010519491231002X"


def new_vin() -> str:
    return vin_with_check_digit(f"LSJA24U6JG{next(_seq) + 500000:06d}")


def make_lead(store_id: int, consultant: Any = None, **data: Any) -> Lead:
    data.setdefault("name", "王芳")
    data.setdefault("mobile", f"1372{next(_seq):07d}")
    return Lead.objects.create(store_id=store_id, consultant=consultant, **data)


def make_stock(actor: Actor, **data: Any) -> StockVehicle:
    data.setdefault("vin", new_vin())
    data.setdefault("model_name", "汉 EV")
    data.setdefault("arrival_date", (timezone.localdate() - dt.timedelta(days=10)).isoformat())
    data.setdefault("list_price", "200000.00")
    data.setdefault("cost", "185000.00")
    return services.stock_create(actor=actor, data=data)


def make_deal(actor: Actor, **data: Any) -> Deal:
    lead = data.pop("lead", None) or make_lead(actor.require_store_id(), consultant=actor.user)
    data.setdefault("model_interest", "汉 EV")
    return services.deal_create(actor=actor, data=data, lead=lead, stock_vehicle=data.pop("stock_vehicle", None))


def upload(actor: Actor, deal: Deal, kind: str, content: bytes = PDF, name: str = "scan.pdf") -> Any:
    return services.document_upload(actor=actor, deal=deal, kind=kind, file=content, name=name)
