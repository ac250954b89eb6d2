import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from autocrm.audit.models import AuditEvent
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.customers.tests.factories import make_customer
from autocrm.leads.choices import LeadStatus, MobileFlag
from autocrm.leads.models import Lead, LeadActivity
from autocrm.leads.services import duty_set, lead_assign, lead_create
from autocrm.messaging.models import StaffNotification

from .factories import actor_for, make_lead, mobile, on_duty, uid

pytestmark = pytest.mark.django_db


@pytest.fixture
def mgr(demo):
    return actor_for("sales_manager_a", "a")


def inbox(username):
    return list(StaffNotification.objects.filter(user_id=uid(username)).values_list("kind", flat=True))


def test_no_contact_is_400_naming_mobile(mgr):
    with pytest.raises(ValidationError) as exc:
        lead_create(actor=mgr, data={"name": "无号码"})
    assert "mobile" in exc.value.fields
    assert not Lead.objects.exists()


def test_hostile_text_is_400_and_nothing_written(mgr):
    for data in (
        {"mobile": "13812345678", "name": "a\x00b"},
        {"mobile": "13812345678", "name": "x" * 5000},
        {"mobile": ["13812345678"]},
        {"mobile": "13812345678", "grade": "Z"},
        {"mobile": "13812345678", "source_channel": "martian"},
    ):
        with pytest.raises(ValidationError):
            lead_create(actor=mgr, data=data)
    assert not Lead.objects.exists()


def test_mobile_normalised_and_doubtful_numbers_flagged_not_refused(mgr):
    ok = make_lead(mgr, mobile="+86 138-1234-5678")
    assert ok.mobile == "+8613812345678" and ok.mobile_flag == MobileFlag.OK
    assert make_lead(mgr, mobile="12345").mobile_flag == MobileFlag.INVALID
    assert make_lead(mgr, mobile="13800000000").mobile_flag == MobileFlag.EMPTY_NUMBER
    assert make_lead(mgr, mobile="13912341234").mobile_flag == MobileFlag.EMPTY_NUMBER
    assert Lead.objects.count() == 4


def test_round_robin_is_fair_and_skips_busy_and_off(mgr):
    on_duty("a", "sales_a1", "sales_a2")
    got = Counter(make_lead(mgr).consultant_id for _ in range(10))
    assert got == {uid("sales_a1"): 5, uid("sales_a2"): 5}
    on_duty("a", "sales_a2", status="busy")
    assert {make_lead(mgr).consultant_id for _ in range(3)} == {uid("sales_a1")}
    on_duty("a", "sales_a1", status="off")
    lead = make_lead(mgr)
    assert lead.consultant_id is None  # nobody left: the manager's queue
    assert "escalated" in inbox("sales_manager_a")


def test_capacity_is_respected_then_manager_queue(mgr):
    on_duty("a", "sales_a1", daily_capacity=2)
    leads = [make_lead(mgr) for _ in range(3)]
    assert [bool(x.consultant_id) for x in leads] == [True, True, False]
    assert Lead.objects.filter(consultant__isnull=True).count() == 1
    assert "escalated" in inbox("sales_manager_a")


def test_brand_model_interest_goes_to_the_specialist(mgr):
    on_duty("a", "sales_a1")
    on_duty("a", "sales_a2", specialities="Model Y, 新能源")
    assert {make_lead(mgr, model_interest="特斯拉 Model Y").consultant_id for _ in range(3)} == {uid("sales_a2")}
    assert make_lead(mgr, model_interest="卡罗拉").consultant_id == uid("sales_a1")


def test_consultant_entering_a_lead_keeps_it(demo):
    sales = actor_for("sales_a2", "a")
    assert make_lead(sales).consultant_id == uid("sales_a2")


def test_dedup_on_arrival_links_to_open_lead_and_tells_its_consultant(mgr):
    on_duty("a", "sales_a1")
    first = make_lead(mgr, mobile="13811112222")
    intake = lead_create(actor=mgr, data={"mobile": "+86 138 1111 2222", "message": "有现车吗"}, source="autohome")
    assert intake.linked and not intake.created and intake.lead.pk == first.pk
    assert Lead.objects.count() == 1
    act = LeadActivity.objects.get(lead=first, kind="enquiry")
    assert "Autohome" in act.note or "汽车之家" in act.note
    assert "leads.assigned" in inbox("sales_a1")
    assert Lead.objects.get().enquiries == 2


def test_external_id_is_idempotent(mgr):
    a = lead_create(actor=mgr, data={"mobile": mobile(), "external_id": "ah-1"}, source="autohome")
    b = lead_create(actor=mgr, data={"mobile": mobile(), "external_id": "ah-1"}, source="autohome")
    assert a.created and b.repeated and a.lead.pk == b.lead.pk and Lead.objects.count() == 1


def test_returning_owner_goes_to_their_consultant_when_on_duty(mgr):
    on_duty("a", "sales_a1", "sales_a2")
    customer = make_customer(mgr, mobile="13955556666", consultant_id=uid("sales_a2"))
    # sales_a2 would not be next in the round after this
    lead = make_lead(mgr, mobile="13955556666", name="")
    assert lead.customer_id == customer.pk and lead.consultant_id == uid("sales_a2") and lead.name == customer.name
    lead.status = LeadStatus.LOST
    lead.save()
    on_duty("a", "sales_a2", status="off")
    again = make_lead(mgr, mobile="13955556666")
    assert again.customer_id == customer.pk and again.consultant_id == uid("sales_a1")


def test_first_contact_due_in_business_hours(mgr):
    from autocrm.tenancy.models import Store

    Store.objects.filter(code="a").update(opening_hours="08:30-18:00")
    on_duty("a", "sales_a1")
    tz = timezone.get_current_timezone()
    at = dt.datetime(2026, 12, 1, 17, 50, tzinfo=tz)
    lead = lead_create(actor=mgr, data={"mobile": mobile()}, now=at).lead
    assert timezone.localtime(lead.first_contact_due, tz) == dt.datetime(2026, 12, 2, 8, 50, tzinfo=tz)


def test_reassign_needs_reason_is_audited_and_version_checked(mgr):
    on_duty("a", "sales_a1")
    lead = make_lead(mgr)
    with pytest.raises(ValidationError) as exc:
        lead_assign(actor=mgr, lead=lead, consultant_id=uid("sales_a2"))
    assert "reason" in exc.value.fields
    stale = Lead.objects.get(pk=lead.pk)
    lead = lead_assign(actor=mgr, lead=lead, consultant_id=uid("sales_a2"), reason="休假")
    assert lead.consultant_id == uid("sales_a2") and lead.version == 1
    ev = AuditEvent.objects.get(action="lead.assigned", object_id=str(lead.pk))
    assert ev.extra["reason"] == "休假" and ev.changes["consultant"] == [uid("sales_a1"), uid("sales_a2")]
    with pytest.raises(Conflict):
        lead_assign(actor=mgr, lead=stale, consultant_id=uid("sales_a1"), reason="抢")
    assert "leads.assigned" in inbox("sales_a2")


def test_assign_refuses_other_store_staff_and_consultants(mgr):
    lead = make_lead(mgr)
    with pytest.raises(ValidationError):
        lead_assign(actor=mgr, lead=lead, consultant_id=uid("sales_b1"))
    with pytest.raises(ValidationError):
        lead_assign(actor=mgr, lead=lead, consultant_id=10**30)
    with pytest.raises(PermissionDenied):
        lead_assign(actor=actor_for("sales_a1", "a"), lead=lead, consultant_id=uid("sales_a1"))


def test_consultant_sets_own_duty_only(demo):
    sales = actor_for("sales_a1", "a")
    assert duty_set(actor=sales, user_id=uid("sales_a1"), status="busy").status == "busy"
    with pytest.raises(PermissionDenied):
        duty_set(actor=sales, user_id=uid("sales_a2"), status="off")
