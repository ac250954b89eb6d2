import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer
from autocrm.sales.models import Deal, DealDocument

from .factories import JPEG, LICENCE, PDF, make_lead, make_stock


@pytest.fixture
def api(demo):
    return Client()


def post(api, path, data, user):
    return api.post(f"/api/v1{path}", data, content_type="application/json", **bearer(user))


def test_deal_through_stages_over_the_api(api):
    sales = actor_for("sales_a1")
    lead = make_lead(sales.store_id, consultant=sales.user, mobile="13755556666", name="周杰")
    stock = make_stock(actor_for("sales_manager_a"))
    r = post(api, "/deals", {"lead": lead.pk, "stock_vehicle": stock.pk}, "sales_a1")
    assert r.status_code == 201, r.content
    deal = r.json()
    assert deal["stage"] == "lead" and deal["next_stage"] == "contact" and deal["gross_profit"] is None
    did = deal["id"]
    for stage in ("contact", "visit"):
        assert post(api, f"/deals/{did}/advance", {}, "sales_a1").json()["stage"] == stage
    r = post(api, f"/deals/{did}/advance", {"to_stage": "test_drive"}, "sales_a1")
    assert r.status_code == 409 and "documents" in r.json()["fields"], r.content
    h = bearer("sales_a1")
    r = api.post(f"/api/v1/deals/{did}/documents",
                 {"kind": "test_drive_agreement", "file": SimpleUploadedFile("a.pdf", PDF)}, **h)  # fmt: skip
    assert r.status_code == 201, r.content
    doc = r.json()
    assert doc["content_type"] == "application/pdf"
    got = api.get(f"/api/v1/deals/{did}/documents/{doc['id']}", **h)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert got["X-Content-Type-Options"] == "nosniff"
    assert api.get(f"/api/v1/deals/{did}/documents/{doc['id']}", **bearer("sales_a2")).status_code == 404
    assert api.get(f"/api/v1/deals/{did}", **bearer("sales_b1")).status_code == 404
    assert post(api, f"/deals/{did}/advance", {"to_stage": "test_drive"}, "sales_a1").status_code == 200
    # test drive with an uploaded licence photo
    photo = api.post(f"/api/v1/deals/{did}/documents",
                     {"kind": "licence_photo", "file": SimpleUploadedFile("x.txt", JPEG)}, **h).json()  # fmt: skip
    assert photo["name"] == "x.jpg"
    demo_car = make_stock(actor_for("sales_manager_a"), status="demo")
    start = timezone.now() + dt.timedelta(days=1)
    body = {"deal": did, "vehicle": demo_car.pk, "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(minutes=40)).isoformat(), "licence_number": LICENCE,
            "licence_photo": photo["id"], "route": "市区线"}  # fmt: skip
    r = post(api, "/test-drives", body, "sales_a1")
    assert r.status_code == 201, r.content
    assert r.json()["licence_number"] != LICENCE  # masked
    assert post(api, "/test-drives", body, "sales_a1").status_code == 409
    # quote over the consultant's authority → pending; the sales manager approves
    r = post(api, "/quotes", {"deal": did, "vehicle_price": "230000.00", "discount": "5000.00",
                              "down_payment": "25000", "term_months": 36, "annual_rate": "3.5"}, "sales_a1")  # fmt: skip
    assert r.status_code == 201, r.content
    quote = r.json()
    assert quote["status"] == "pending_approval" and quote["monthly_payment"] == "5860.42"
    assert post(api, f"/quotes/{quote['id']}/approve", {}, "sales_a1").status_code == 403
    r = post(api, f"/quotes/{quote['id']}/approve", {}, "sales_manager_a")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert post(api, f"/deals/{did}/advance", {}, "sales_a1").json()["stage"] == "quote"
    manager = api.get(f"/api/v1/deals/{did}", **bearer("sales_manager_a")).json()
    assert manager["gross_profit"] is None  # no agreed price yet; hidden or not, never the cost
    listed = api.get("/api/v1/stock", **bearer("sales_a1")).json()["items"]
    assert listed and all(item["cost"] is None for item in listed)
    assert api.get("/api/v1/stock", **bearer("sales_manager_a")).json()["items"][0]["cost"] == "185000.00"


@pytest.mark.parametrize(
    "body",
    [{"deal": 1, "vehicle_price": "9" * 400}, {"deal": 1, "vehicle_price": "1e99999999"},
     {"deal": 1, "vehicle_price": "NaN"}, {"deal": 1, "vehicle_price": "Infinity"},
     {"deal": 1, "vehicle_price": 10**30}, {"deal": 1, "vehicle_price": "100", "term_months": 10**12},
     {"deal": 1, "vehicle_price": "100", "annual_rate": "1e-99999"}, {"deal": 1, "vehicle_price": ["x"]},
     {"deal": 1, "vehicle_price": "100", "options": [{"name": "x" * 5000, "price": "1"}]}],
)  # fmt: skip
def test_hostile_quote_bodies_are_400(api, body):
    sales = actor_for("sales_a1")
    lead = make_lead(sales.store_id, consultant=sales.user)
    did = post(api, "/deals", {"lead": lead.pk}, "sales_a1").json()["id"]
    r = post(api, "/quotes", {**body, "deal": did}, "sales_a1")
    assert r.status_code == 400, r.content
    assert r.json()["fields"]


def test_hostile_uploads(api):
    sales = actor_for("sales_a1")
    lead = make_lead(sales.store_id, consultant=sales.user)
    did = post(api, "/deals", {"lead": lead.pk}, "sales_a1").json()["id"]
    h = bearer("sales_a1")
    for name, content in (("contract.pdf", b"<script>alert(1)</script>" * 4), ("a.pdf", b""),
                          ("../../etc/passwd.pdf", b"MZ\x90\x00" + b"\x00" * 40)):  # fmt: skip
        r = api.post(f"/api/v1/deals/{did}/documents", {"kind": "contract", "file": SimpleUploadedFile(name, content)},
                     **h)  # fmt: skip
        assert r.status_code == 400 and "file" in r.json()["fields"], (name, r.content)
    big = SimpleUploadedFile("big.jpg", JPEG + b"\x00" * (13 * 1024 * 1024))
    r = api.post(f"/api/v1/deals/{did}/documents", {"kind": "licence_photo", "file": big}, **h)
    assert r.status_code == 400 and "file" in r.json()["fields"]
    r = api.post(f"/api/v1/deals/{did}/documents", {"kind": "bogus", "file": SimpleUploadedFile("a.pdf", PDF)}, **h)
    assert r.status_code == 400 and "kind" in r.json()["fields"]
    ok = api.post(f"/api/v1/deals/{did}/documents",
                  {"kind": "contract", "file": SimpleUploadedFile("../../x\x01y.pdf", PDF)}, **h)  # fmt: skip
    assert ok.status_code == 201 and "/" not in ok.json()["name"]
    assert DealDocument.objects.filter(deal_id=did).count() == 1


def test_deal_bad_input(api):
    assert post(api, "/deals", {}, "sales_a1").status_code == 400
    assert post(api, "/deals", {"lead": 987654}, "sales_a1").status_code == 404
    other = make_lead(actor_for("sales_b1").store_id)
    assert post(api, "/deals", {"lead": other.pk}, "sales_a1").status_code == 404
    sales = actor_for("sales_a1")
    lead = make_lead(sales.store_id, consultant=sales.user)
    r = post(api, "/deals", {"lead": lead.pk, "purchase_type": "stolen", "name": "x" * 500}, "sales_a1")
    assert r.status_code == 400 and {"purchase_type", "name"} <= set(r.json()["fields"])
    did = post(api, "/deals", {"lead": lead.pk}, "sales_a1").json()["id"]
    assert post(api, f"/deals/{did}/advance", {"to_stage": "moon"}, "sales_a1").status_code == 400
    assert post(api, f"/deals/{did}/advance", {"to_stage": "delivery"}, "sales_a1").status_code == 409
    assert Deal.objects.get(pk=did).stage == "lead"


def test_stock_and_prospects(api):
    r = post(api, "/stock", {"vin": "LSJA24U62JG269225", "model_name": "汉 EV", "arrival_date": "2026-06-01",
                             "list_price": "209800", "cost": "190000.00"}, "sales_manager_a")  # fmt: skip
    assert r.status_code == 201, r.content
    car = r.json()
    assert car["age_days"] >= 60 and car["ageing_alert"] in (60, 90, 120)
    assert post(api, "/stock", {"vin": "LSJA24U62JG269225", "model_name": "汉", "arrival_date": "2026-06-01"},
                "sales_manager_a").status_code == 409  # fmt: skip
    r = post(api, "/stock", {"vin": "LSJA24U62JG269226", "model_name": "", "arrival_date": "2099-01-01",
                             "cost": "-5"}, "sales_manager_a")  # fmt: skip
    assert r.status_code == 400 and {"vin", "model_name", "arrival_date", "cost"} <= set(r.json()["fields"])
    assert post(api, "/stock", {"vin": "x", "model_name": "x", "arrival_date": "x"}, "sales_a1").status_code == 403
    r = api.get(f"/api/v1/stock/{car['id']}/prospects", **bearer("marketing_a1"))
    assert r.status_code == 200 and r.json() == []
    assert api.get("/api/v1/stock?min_age=abc", **bearer("sales_a1")).status_code == 400
