import datetime as dt

import pytest
from django.utils import timezone

from autocrm.customers.tests.test_import import csv_upload
from autocrm.imports.importing import import_job_commit, import_job_create
from autocrm.leads.models import Lead, LeadActivity
from autocrm.leads.services import lead_activity_log, lead_create, lead_sla_sweep
from autocrm.messaging.models import StaffNotification
from autocrm.tenancy.models import Store

from .factories import actor_for, mobile, on_duty, uid

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def at(day, hour, minute=0):
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def kinds(username):
    return list(StaffNotification.objects.filter(user_id=uid(username)).values_list("kind", flat=True))


@pytest.fixture
def store(demo):
    Store.objects.filter(code="a").update(opening_hours="08:30-18:00")
    on_duty("a", "sales_a1")
    return actor_for("sales_manager_a", "a")


def test_reminder_before_and_escalation_on_breach_each_once(store):
    lead = lead_create(actor=store, data={"mobile": mobile(), "name": "王"}, now=at(1, 10, 0)).lead
    assert timezone.localtime(lead.first_contact_due, TZ) == at(1, 10, 30)
    assert lead_sla_sweep(now=at(1, 10, 10)).reminded == 0  # 20 minutes left: too early
    assert lead_sla_sweep(now=at(1, 10, 22)).reminded == 1
    assert lead_sla_sweep(now=at(1, 10, 25)).reminded == 0  # once
    assert kinds("sales_a1").count("sla.breach") == 1
    assert "escalated" not in kinds("sales_manager_a")
    assert lead_sla_sweep(now=at(1, 10, 31)).escalated == 1
    assert lead_sla_sweep(now=at(1, 11, 0)).escalated == 0  # re-runnable
    assert kinds("sales_manager_a").count("escalated") == 1


def test_contact_in_time_means_no_escalation_and_follow_up_cadence(store):
    lead = lead_create(actor=store, data={"mobile": mobile(), "grade": "H"}, now=at(1, 10, 0)).lead
    sales = actor_for("sales_a1", "a")
    lead_activity_log(actor=sales, lead=lead, kind="call", outcome="reached", now=at(1, 10, 5))
    lead.refresh_from_db()
    assert lead.first_contact_at == at(1, 10, 5) and lead.next_action_at == at(2, 10, 5)  # grade H: 1 day
    assert lead_sla_sweep(now=at(1, 10, 31)).escalated == 0
    assert lead_sla_sweep(now=at(2, 10, 0)).follow_up_reminded == 1
    assert lead_sla_sweep(now=at(2, 10, 6)).follow_up_escalated == 1
    assert lead_sla_sweep(now=at(2, 10, 7)).follow_up_escalated == 0
    # the next touch sets a new deadline, watched afresh
    lead_activity_log(actor=sales, lead=lead, kind="wechat", next_action_at=at(3, 9, 0).isoformat(), now=at(2, 11, 0))
    assert lead_sla_sweep(now=at(3, 9, 1)).follow_up_escalated == 1


def test_lead_at_1750_is_due_next_morning_and_not_escalated_overnight(store):
    lead = lead_create(actor=store, data={"mobile": mobile()}, now=at(1, 17, 50)).lead
    assert timezone.localtime(lead.first_contact_due, TZ) == at(2, 8, 50)
    assert lead_sla_sweep(now=at(1, 23, 0)).escalated == 0
    assert lead_sla_sweep(now=at(2, 8, 51)).escalated == 1


def test_import_goes_through_intake_dedup_and_assignment(store):
    existing = lead_create(actor=store, data={"mobile": "13766667777"}).lead
    rows = [["张三", "13700001111", "汽车之家", "AH-1", "A"], ["李四", "13766667777", "懂车帝", "", ""],
            ["", "", "", "", ""], ["王五", "13700002222", "车展", "AH-2", "Z"]]  # fmt: skip
    upload = csv_upload(rows, header=["姓名", "手机号", "来源", "线索ID", "意向级别"])
    job = import_job_create(actor=store, upload=upload, kind="leads", mode="valid_only")
    job = import_job_commit(actor=store, job=job, mode="valid_only")
    assert Lead.objects.filter(external_id="AH-1", source_channel="autohome", consultant_id=uid("sales_a1")).exists()
    assert LeadActivity.objects.filter(lead=existing, kind="enquiry").exists()
    assert not Lead.objects.filter(external_id="AH-2").exists()  # bad grade: the row is refused
    assert Lead.objects.count() == 2
