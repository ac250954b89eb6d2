"""The sales flow completed (issue 13, items 6, 6b, 6c, 10): evidence that is never skipped,
discount authority in yuan or per cent with the managers told, approve/reject, the needs
analysis and trade-in forms, the 话术库, repeat purchases on the 360 page, the consultant's day."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.customers.models import TimelineEvent
from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer
from autocrm.demo.scripts import load_scripts
from autocrm.leads.models import Lead, LeadActivity
from autocrm.messaging.models import StaffNotification
from autocrm.sales import selectors, services
from autocrm.sales.choices import DocumentKind, QuoteStatus, Stage
from autocrm.sales.models import Deal, SalesScript, TradeIn
from autocrm.tenancy.models import Store

from .factories import JPEG, LICENCE, PDF, make_deal, make_lead, make_stock, upload


@pytest.fixture
def sales(demo):
    return actor_for("sales_a1")


@pytest.fixture
def manager(demo):
    return actor_for("sales_manager_a")


def login(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _at_quote(actor, deal):
    for stage in (Stage.CONTACT, Stage.VISIT):
        if deal.stage != stage and not (stage == Stage.CONTACT and deal.stage == Stage.CONTACT):
            deal = services.deal_advance(actor=actor, deal=deal, to_stage=stage)
    upload(actor, deal, DocumentKind.TEST_DRIVE_AGREEMENT)
    return services.deal_advance(actor=actor, deal=deal, to_stage=Stage.TEST_DRIVE)


# --- discount authority and approval ----------------------------------------------------------------


def test_authority_as_a_share_of_the_price(sales, manager):
    services.settings_update(
        actor=actor_for("manager_a"), data={"discount_authority": {"sales": "3%", "sales_manager": "10000"}}
    )
    deal = make_deal(sales)
    ok = services.quote_create(actor=sales, deal=deal, data={"vehicle_price": "200000", "discount": "6000"})
    assert ok.status == QuoteStatus.DRAFT  # 3 % of ¥200,000
    over = services.quote_create(actor=sales, deal=deal, data={"vehicle_price": "200000", "discount": "6000.01"})
    assert over.status == QuoteStatus.PENDING_APPROVAL
    with pytest.raises(ValidationError) as exc:
        services.settings_update(actor=actor_for("manager_a"), data={"discount_authority": {"sales": "130%"}})
    assert "discount_authority" in exc.value.fields


def test_pending_quote_tells_the_managers_blocks_the_order_and_the_decision_tells_the_consultant(sales, manager):
    deal = _at_quote(sales, make_deal(sales, name="陈晨"))
    quote = services.quote_create(actor=sales, deal=deal, data={"vehicle_price": "200000", "discount": "8000"})
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    told = StaffNotification.objects.filter(kind="sales.quote_approval", user=manager.user)
    assert told.count() == 1 and "陈晨" in told.get().title
    with pytest.raises(Conflict) as exc:  # nothing presentable yet: a quote waiting does not count
        services.deal_advance(actor=sales, deal=deal, to_stage=Stage.QUOTE)
    assert "quote" in exc.value.fields
    services.quote_approve(actor=manager, quote=quote, approve=False)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.REJECTED
    assert StaffNotification.objects.filter(kind="sales.quote_approval", user=sales.user).count() == 1
    with pytest.raises(Conflict):
        services.quote_approve(actor=manager, quote=quote)  # decided already
    second = services.quote_create(actor=sales, deal=deal, data={"vehicle_price": "200000", "discount": "2000"})
    deal = services.deal_advance(actor=sales, deal=deal, to_stage=Stage.QUOTE)
    waiting = services.quote_create(actor=sales, deal=deal, data={"vehicle_price": "200000", "discount": "9000"})
    upload(sales, deal, DocumentKind.CONTRACT)
    with pytest.raises(Conflict) as exc:
        services.deal_advance(actor=sales, deal=deal, to_stage=Stage.ORDER)
    assert "quote" in exc.value.fields
    services.quote_approve(actor=manager, quote=waiting)
    deal = services.deal_advance(actor=sales, deal=deal, to_stage=Stage.ORDER)
    assert deal.stage == Stage.ORDER and second.pk


def test_reject_over_the_api(sales, manager):
    deal = make_deal(sales)
    quote = services.quote_create(actor=sales, deal=deal, data={"vehicle_price": "200000", "discount": "8000"})
    client = Client()
    path = f"/api/v1/quotes/{quote.pk}/reject"
    assert client.post(path, **bearer("sales_a1")).status_code == 403
    r = client.post(path, **bearer("sales_manager_a"))
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert client.post(path, **bearer("sales_manager_a")).status_code == 409
    assert client.post("/api/v1/quotes/999999/reject", **bearer("sales_manager_a")).status_code == 404


def test_quote_queue_page_approves(sales, manager):
    deal = make_deal(sales, name="周洋")
    quote = services.quote_create(actor=sales, deal=deal, data={"vehicle_price": "200000", "discount": "8000"})
    client = login("sales_manager_a")
    page = client.get(reverse("sales:quote_queue"))
    assert page.status_code == 200 and "周洋" in page.content.decode()
    r = client.post(reverse("sales:quote_decide", args=[quote.pk]), {"decision": "approve", "next": "queue"})
    assert r.status_code == 302 and r["Location"] == reverse("sales:quote_queue")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert login("sales_a1").get(reverse("sales:quote_queue")).status_code == 403


# --- evidence that is never skipped ------------------------------------------------------------


def test_a_financed_quote_cannot_skip_the_finance_approval(sales):
    stock = make_stock(actor_for("sales_manager_a"))
    deal = _at_quote(sales, make_deal(sales, stock_vehicle=stock))
    services.quote_create(actor=sales, deal=deal, data={"vehicle_price": "200000", "down_payment": "60000",
                                                        "term_months": 36, "annual_rate": "3.5"})  # fmt: skip
    deal = services.deal_advance(actor=sales, deal=deal, to_stage=Stage.QUOTE)
    upload(sales, deal, DocumentKind.CONTRACT)
    deal = services.deal_advance(actor=sales, deal=deal, to_stage=Stage.ORDER)
    upload(sales, deal, DocumentKind.CONDITION_SHEET)
    upload(sales, deal, DocumentKind.PDI)
    with pytest.raises(Conflict) as exc:
        services.deal_advance(actor=sales, deal=deal, to_stage=Stage.DELIVERY)
    assert set(exc.value.fields) == {"finance"}
    deal = services.deal_advance(actor=sales, deal=deal, to_stage=Stage.FINANCE)
    services.deal_finance_approve(actor=actor_for("finance_a1"), deal=deal, insurer="中国人保")
    deal = services.deal_advance(actor=sales, deal=deal, to_stage=Stage.DELIVERY)
    assert deal.status == "won"


def test_delivery_writes_the_new_buyers_story_and_the_lead_row_stays_true(sales):
    stock = make_stock(actor_for("sales_manager_a"))
    lead = make_lead(sales.store_id, consultant=sales.user, name="钱多多", mobile="13912345678")
    from autocrm.leads import services as lead_services

    lead_services.lead_activity_log(actor=sales, lead=lead, kind="call", note="约周六到店")
    deal = _at_quote(sales, make_deal(sales, lead=lead, stock_vehicle=stock))
    before = Lead.objects.get(pk=lead.pk).updated_at
    services.quote_create(actor=sales, deal=deal, data={"vehicle_price": "200000"})
    deal = services.deal_advance(actor=sales, deal=deal, to_stage=Stage.QUOTE)
    upload(sales, deal, DocumentKind.CONTRACT)
    deal = services.deal_advance(actor=sales, deal=deal, to_stage=Stage.ORDER)
    for kind in (DocumentKind.CONDITION_SHEET, DocumentKind.PDI):
        upload(sales, deal, kind)
    deal = services.deal_advance(actor=sales, deal=deal, to_stage=Stage.DELIVERY)
    lead.refresh_from_db()
    assert lead.status == "won" and lead.customer_id == deal.customer_id and lead.updated_at > before
    kinds = list(TimelineEvent.objects.filter(customer_id=deal.customer_id).order_by("at", "id")
                 .values_list("kind", flat=True))  # fmt: skip
    for kind in ("lead.created", "lead.call", "deal.opened", "deal.quote", "deal.delivered"):
        assert kind in kinds
    assert kinds.index("lead.call") < kinds.index("deal.delivered")


# --- needs analysis and trade-in on the deal page ----------------------------------------------


def test_needs_and_trade_in_forms_flow_into_the_quote(sales):
    deal = make_deal(sales, name="孙悦")
    client = login("sales_a1")
    r = client.post(reverse("sales:needs_save", args=[deal.pk]), {
        "budget_min": "150000", "budget_max": "220000", "purpose": "family", "body_preference": "SUV",
        "fuel_preference": "插混", "options_wanted": "全景天窗，座椅通风", "brands_considered": "比亚迪, 理想",
        "purchase_type": "replacement", "price_sensitivity": "high",
    })  # fmt: skip
    assert r.status_code == 302
    deal.refresh_from_db()
    assert deal.needs.options_wanted == ["全景天窗", "座椅通风"] and deal.purchase_type == "replacement"
    bad = client.post(reverse("sales:needs_save", args=[deal.pk]), {"budget_min": "9", "budget_max": "1"},
                      follow=True)  # fmt: skip
    assert "budget" in bad.content.decode() or bad.status_code == 200
    r = client.post(reverse("sales:trade_in_create", args=[deal.pk]), {
        "model_name": "大众 朗逸 2018", "plate": "沪A12345", "mileage_km": "86000", "condition": "左后门轻微刮擦",
        "offered_price": "52000", "photos": [SimpleUploadedFile("a.jpg", JPEG), SimpleUploadedFile("b.jpg", JPEG)],
    })  # fmt: skip
    assert r.status_code == 302
    trade = TradeIn.objects.get(deal=deal)
    assert trade.photos.count() == 2 and trade.offered_price == Decimal("52000.00")
    page = client.get(reverse("sales:deal_detail", args=[deal.pk])).content.decode()
    assert "大众 朗逸 2018" in page and 'data-testid="quote-trade-in"' in page
    client.post(reverse("sales:quote_create", args=[deal.pk]), {"vehicle_price": "200000", "discount": "1000"})
    quote = deal.quotes.get()
    assert quote.trade_in_value == Decimal("52000.00")
    refused = client.post(reverse("sales:trade_in_create", args=[deal.pk]), {
        "model_name": "朗逸", "offered_price": "1", "photos": [SimpleUploadedFile("x.jpg", PDF)]})  # fmt: skip
    assert refused.status_code == 302 and TradeIn.objects.filter(deal=deal).count() == 1


def test_deal_edit_chooses_the_car_and_delivery_date_and_opens_from_the_lead(sales):
    lead = make_lead(sales.store_id, consultant=sales.user, name="冯媛")
    client = login("sales_a1")
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert 'data-testid="open-deal"' in page and 'data-testid="script-q"' in page
    r = client.post(reverse("sales:deal_from_lead", args=[lead.pk]))
    deal = Deal.objects.get(lead=lead)
    assert r.status_code == 302 and r["Location"] == reverse("sales:deal_detail", args=[deal.pk])
    assert "冯媛" in client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    car = make_stock(actor_for("sales_manager_a"), model_name="宋PLUS DM-i")
    day = timezone.localdate() + dt.timedelta(days=2)
    r = client.post(
        reverse("sales:deal_update", args=[deal.pk]),
        {"stock_vehicle": car.pk, "agreed_price": "165800", "planned_delivery": day.isoformat()},
    )
    deal.refresh_from_db()
    assert (deal.stock_vehicle_id, deal.agreed_price, deal.planned_delivery) == (car.pk, Decimal("165800"), day)
    other = make_lead(sales.store_id, consultant=actor_for("sales_a2").user)
    assert client.post(reverse("sales:deal_from_lead", args=[other.pk])).status_code == 404


# --- the consultant's day and the 360 page ----------------------------------------------------


def test_consultant_day_lists_drives_and_deliveries(sales):
    demo_car = make_stock(actor_for("sales_manager_a"), status="demo", model_name="海豹")
    deal = make_deal(sales, name="蒋涛")
    start = timezone.now() + dt.timedelta(hours=3)
    services.test_drive_book(actor=sales, deal=deal, vehicle=demo_car, data={
        "starts_at": start, "ends_at": start + dt.timedelta(hours=1), "licence_number": LICENCE})  # fmt: skip
    due = make_deal(sales, name="韩梅")
    services.deal_update(actor=sales, deal=due, data={"planned_delivery": timezone.localdate().isoformat()})
    later = make_deal(sales, name="远期")
    services.deal_update(
        actor=sales, deal=later, data={"planned_delivery": (timezone.localdate() + dt.timedelta(days=30)).isoformat()}
    )
    day = selectors.consultant_day(actor=sales)
    assert [d.deal_id for d in day["test_drives"]] == [deal.pk]
    assert [d.pk for d in day["deliveries"]] == [due.pk]
    home = login("sales_a1").get(reverse("home")).content.decode()
    assert 'id="panel-sales-day"' in home and "蒋涛" in home and "韩梅" in home
    assert 'id="panel-sales-day"' not in login("sales_manager_a").get(reverse("home")).content.decode()


def test_repeat_purchases_on_the_360_page(sales):
    from autocrm.customers.tests.factories import make_customer

    customer = make_customer(sales, name="楚乔", mobile="13655556666")
    for years_ago in (5, 0):
        deal = services.deal_create(actor=sales, data={"model_interest": "汉 EV"}, customer=customer)
        Deal.objects.filter(pk=deal.pk).update(
            status="won", delivered_at=timezone.now() - dt.timedelta(days=365 * years_ago)
        )
    client = login("sales_a1")
    page = client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    url = reverse("sales:customer_purchases", args=[customer.pk])
    assert url in page
    part = client.get(url, HTTP_HX_REQUEST="true")
    assert part.status_code == 200 and "HX-Request" in part["Vary"]
    html = part.content.decode()
    assert 'data-testid="purchase-count">2<' in html and "5.0" in html and "<html" not in html
    assert "<html" in client.get(url).content.decode()  # no JavaScript: inside the shell


# --- 话术库 --------------------------------------------------------------------------------------


def test_scripts_search_chinese_substrings_and_tags(sales, manager):
    store = Store.objects.get(pk=sales.store_id)
    assert SalesScript.objects.filter(store=store).count() >= 20  # the demo's library
    assert load_scripts(store) == 0  # idempotent
    hits = list(selectors.script_list(actor=sales, q="续航"))
    assert hits and all("续航" in s.objection + s.answer + s.tag_text for s in hits)
    assert list(selectors.script_list(actor=sales, q="月供"))  # a tag only
    assert list(selectors.script_list(actor=sales, q="特斯拉 空间")) and not list(
        selectors.script_list(actor=sales, q="特斯拉 不存在的词"))  # fmt: skip
    other = actor_for("sales_b1")
    assert all(s.store_id == other.store_id for s in selectors.script_list(actor=other, q="续航"))  # its own
    fragment = login("sales_a1").get(reverse("sales:script_search"), {"q": "太贵"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "落地价" in fragment.content.decode()


def test_script_management_and_api(sales, manager):
    client = Client()
    r = client.post("/api/v1/sales-scripts", {"objection": "油耗高", "answer": "DM-i 百公里不到4升", "tags": ["油耗"]},
                    content_type="application/json", **bearer("sales_manager_a"))  # fmt: skip
    assert r.status_code == 201
    pk = r.json()["id"]
    found = client.get("/api/v1/sales-scripts", {"q": "油耗"}, **bearer("sales_a1")).json()["items"]
    assert pk in [s["id"] for s in found] and all(
        "油耗" in s["objection"] + s["answer"] + "".join(s["tags"]) for s in found
    )
    assert client.post("/api/v1/sales-scripts", {"objection": "x", "answer": "y"}, content_type="application/json",
                       **bearer("sales_a1")).status_code == 403  # fmt: skip
    bad = client.post("/api/v1/sales-scripts", {"objection": "", "answer": "a" * 5000},
                      content_type="application/json", **bearer("sales_manager_a"))  # fmt: skip
    assert bad.status_code == 400 and {"objection", "answer"} <= set(bad.json()["fields"])
    r = client.patch(f"/api/v1/sales-scripts/{pk}", {"competitor": "丰田 凯美瑞"}, content_type="application/json",
                     **bearer("sales_manager_a"))  # fmt: skip
    assert r.status_code == 200 and r.json()["competitor"] == "丰田 凯美瑞" and r.json()["answer"].startswith("DM-i")
    page = login("sales_manager_a")
    r = page.post(reverse("sales:script_list"), {"objection": "首付太高", "answer": "两成首付起", "tags": "首付, 贷款"})
    assert r.status_code == 302
    made = SalesScript.objects.get(objection="首付太高")
    assert made.tags == ["首付", "贷款"] and made.tag_text == "首付 贷款"
    assert page.post(reverse("sales:script_list"), {"objection": ""}).status_code == 400
    page.post(reverse("sales:script_list"), {"id": made.pk, "delete": "1"})
    assert not SalesScript.objects.filter(pk=made.pk).exists()
    with pytest.raises(PermissionDenied):
        services.script_save(actor=sales, data={"objection": "a", "answer": "b"})
    assert client.delete(f"/api/v1/sales-scripts/{pk}", **bearer("sales_manager_a")).status_code == 204


def test_lead_activity_rows_untouched_by_the_panel(sales):
    """The lead page's sales panel reads, it never writes."""
    lead = make_lead(sales.store_id, consultant=sales.user)
    login("sales_a1").get(reverse("leads:lead_detail", args=[lead.pk]))
    assert not LeadActivity.objects.filter(lead=lead).exists() and not Deal.objects.filter(lead=lead).exists()
