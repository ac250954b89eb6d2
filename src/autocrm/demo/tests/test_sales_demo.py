"""The demo's two years of leads and deals (demo.leads, demo.sales): realistic rates on the KPI
page, every stage, today's work for the home pages, and the invariants the services keep."""

import datetime as dt

from django.db.models import Count
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.demo.leads import demo_leads_store
from autocrm.demo.sales import demo_sales_store
from autocrm.leads.choices import LeadStatus
from autocrm.leads.models import Lead, LeadActivity, LostRequest
from autocrm.leads.selectors import lead_manager_board, lead_todo
from autocrm.sales import kpis
from autocrm.sales.choices import STAGE_ORDER, DocumentKind
from autocrm.sales.models import Deal, DealDocument, StockVehicle
from autocrm.sales.models import TestDrive as Drive
from autocrm.tenancy.models import Store


def _actor(username, store):
    return actor_build(user=User.objects.get(username=username), store_id=store.pk)


def test_demo_leads_and_deals(demo):
    """One fill (it takes a while), three checks."""
    store = Store.objects.get(code="a")
    made = demo_leads_store(store, count=700, seed=42)
    assert made.made >= 680
    _realistic_rates(store)
    _every_stage_and_the_invariants(store)
    _todays_work_is_alive(store)


def _realistic_rates(store):
    manager = _actor("sales_manager_a", store)
    today = timezone.localdate()
    period = kpis.period_parse("custom", start=today - dt.timedelta(days=730), end=today)
    t = kpis.sales_kpis(actor=manager, period=period)["totals"]
    assert 0.04 <= t["lead_to_deal_rate"] <= 0.08
    assert 0.25 <= t["lead_to_visit_rate"] <= 0.35
    assert 0.5 <= t["test_drive_rate"] <= 0.7
    assert 0.12 <= t["visit_to_order_rate"] <= 0.3
    assert 5 <= t["first_response_median_minutes"] <= 40
    assert 10 <= t["deal_cycle_median_days"] <= 50
    assert 0.3 <= t["finance_penetration"] <= 0.8 and 0.7 <= t["insurance_penetration"] <= 1
    assert 2000 <= float(t["gross_profit_per_vehicle"]) <= 15000
    assert t["repurchase_rate"] is not None and t["repurchase_rate"] > 0
    arrived = Lead.objects.filter(store=store).order_by("arrived_at").values_list("arrived_at", flat=True)
    assert (timezone.now() - arrived.first()).days >= 600  # two years back
    sources = set(Lead.objects.filter(store=store).values_list("source_channel", flat=True))
    assert {"autohome", "dongchedi", "yiche", "web_form", "walk_in", "phone", "event", "referral", "import"} <= sources


def _every_stage_and_the_invariants(store):
    stages = set(Deal.objects.filter(store=store).values_list("stage", flat=True))
    assert set(STAGE_ORDER) - {"lead"} <= stages | {"contact"}
    assert {"delivery", "order", "quote", "test_drive", "visit"} <= stages
    statuses = dict(LostRequest.objects.filter(store=store).values_list("status").annotate(n=Count("id")))
    assert statuses.get("approved", 0) > 80 and statuses.get("returned", 0) > 5 and statuses.get("pending", 0) > 0
    # wrongly lost: returned, and the lead open again
    returned = Lead.objects.filter(store=store, lost_requests__status="returned").exclude(status="lost")
    assert returned.exists()
    won = Deal.objects.filter(store=store, status="won")
    assert won.count() >= 20
    assert not won.filter(vehicle__isnull=True).exists() and not won.filter(customer__isnull=True).exists()
    assert not won.filter(delivered_at__gte=timezone.now()).exists()
    assert set(Lead.objects.filter(pk__in=won.values("lead_id")).values_list("status", flat=True)) == {LeadStatus.WON}
    for deal in Deal.objects.filter(store=store, stage__in=STAGE_ORDER[3:])[:200]:
        kinds = set(DealDocument.objects.filter(deal=deal).values_list("kind", flat=True))
        if deal.stage in STAGE_ORDER[STAGE_ORDER.index("order") :]:
            assert DocumentKind.CONTRACT in kinds
        if deal.stage == "test_drive":
            assert DocumentKind.TEST_DRIVE_AGREEMENT in kinds
    # leads: the first-contact deadline always set; contacted ones have the touch of their first activity
    assert not Lead.objects.filter(store=store, first_contact_due__isnull=True).exists()
    assert not Lead.objects.filter(store=store, status="lost", closed_at__isnull=True).exists()
    lead = Lead.objects.filter(store=store, first_contact_at__isnull=False).order_by("pk").first()
    first = LeadActivity.objects.filter(lead=lead).exclude(kind="note").order_by("at").first()
    assert first is not None and first.at == lead.first_contact_at
    assert StockVehicle.objects.filter(store=store, status="demo").count() == 3
    assert StockVehicle.objects.filter(
        store=store, status="in_stock", arrival_date__lte=timezone.localdate() - dt.timedelta(days=90)
    ).exists()
    assert demo_sales_store(store) == 0  # once per store
    assert demo_leads_store(store, count=10).made == 0


def _todays_work_is_alive(store):
    consultant = _actor("sales_a1", store)
    todo = lead_todo(actor=consultant)
    assert todo["new"] and all(lead.minutes_left is not None for lead in todo["new"])  # the "—" of old
    board = lead_manager_board(actor=_actor("sales_manager_a", store))
    assert board["breaches"] and len(board["unassigned"]) == 2 and board["lost_requests"]
    funnel = kpis.today_funnel(actor=_actor("sales_manager_a", store))
    assert funnel["new"] >= 8 and funnel["contacted"] >= 4 and funnel["visits"] >= 1
    today = timezone.localdate()
    assert Drive.objects.filter(
        store=store, status="booked", starts_at__date__gte=today - dt.timedelta(days=1)
    ).exists()
    assert (
        funnel["deliveries"] >= 1
        or Deal.objects.filter(store=store, delivered_at__gte=timezone.now() - dt.timedelta(days=7)).exists()
    )
