import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from autocrm.accounts.models import User
from autocrm.customers.tests.factories import actor_for
from autocrm.service import services
from autocrm.service.choices import Approval, RoStatus
from autocrm.service.models import EstimateLink, Job, PartLine

from .factories import JPEG, make_canned, make_car, make_ro, tomorrow_at


def login(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


def _ro_with_lines(advisor, jobs=1):
    ro = make_ro(advisor)
    for n in range(jobs):
        job = services.job_add(actor=advisor, repair_order=ro, data={"code": f"J{n}", "name": f"作业{n}", "hours": "1"})
        services.part_add(actor=advisor, repair_order=ro, data={"name": f"配件{n}", "quantity": "1",
                                                                "unit_price": "10.00", "job": job.pk})  # fmt: skip
    return ro


def test_repair_order_page_costs_the_same_queries_for_few_and_many_lines(advisor):
    client = login("advisor_a1")
    counts = []
    for jobs in (1, 8):
        ro = _ro_with_lines(advisor, jobs)
        client.get(reverse("service:repair_order_detail", args=[ro.pk]))  # warm the caches
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(reverse("service:repair_order_detail", args=[ro.pk]))
        assert r.status_code == 200 and "作业0" in r.content.decode()
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 20, counts


def test_pages_render_for_the_desk_and_the_workshop(advisor):
    canned = make_canned(actor_for("service_manager_a"))
    customer, car = make_car(advisor)
    services.appointment_book(
        actor=advisor, customer=customer, vehicle=car, data={"starts_at": tomorrow_at(9).isoformat()}
    )
    ro = make_ro(advisor, car=(customer, car), km=20000)
    client = login("advisor_a1")
    day = tomorrow_at(9).date().isoformat()
    body = client.get(reverse("service:appointment_list") + f"?date={day}").content.decode()
    assert customer.name in body and 'data-testid="slots"' in body
    r = client.post(reverse("service:canned_apply", args=[ro.pk]), {"canned_job": canned.pk})
    assert r.status_code == 302
    assert Job.objects.filter(repair_order=ro, code="OIL").exists()
    assert client.get(reverse("service:repair_order_list")).status_code == 200
    assert client.get(reverse("service:canned_job_list")).status_code == 200
    assert 'id="panel-service-day"' in client.get("/").content.decode()
    part = login("advisor_a1").get(reverse("service:customer_service_part", args=[customer.pk]), HTTP_HX_REQUEST="true")
    assert ro.number in part.content.decode() and "<html" not in part.content.decode()
    r = client.post(reverse("service:repair_order_advance", args=[ro.pk]), {"to_status": "delivered"})
    assert r.status_code == 302  # refused with a message: out of order
    ro.refresh_from_db()
    assert ro.status == "received"


def test_technician_records_progress_and_a_photo_on_their_home(advisor):
    tech = actor_for("tech_a1")
    ro = make_ro(advisor)
    job = services.job_add(actor=advisor, repair_order=ro, data={"code": "X", "name": "检查底盘", "hours": "1",
                                                                  "technician": tech.user_id})  # fmt: skip
    services.repair_order_advance(actor=advisor, repair_order=ro)
    services.repair_order_advance(actor=advisor, repair_order=ro)
    services.estimate_record(actor=advisor, repair_order=ro, answers={f"job:{job.pk}": "approved"})
    client = login("tech_a1")
    assert "检查底盘" in client.get("/").content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client.post(reverse("service:job_progress", args=[ro.pk, job.pk]), {
        "progress": "done", "findings": "底盘正常", "kind": "replaced_part",
        "photo": SimpleUploadedFile("old.jpg", JPEG, content_type="image/jpeg")})  # fmt: skip
    assert r.status_code == 302
    job.refresh_from_db()
    assert job.progress == "done" and job.photos.count() == 1
    photo = job.photos.get()
    assert client.get(reverse("service:job_photo", args=[ro.pk, photo.pk])).status_code == 200
    other = login("sales_b1")
    assert other.get(reverse("service:job_photo", args=[ro.pk, photo.pk])).status_code in (403, 404)


def test_the_owner_link_page_approve_one_decline_another_then_used_and_expired(advisor):
    ro = make_ro(advisor)
    keep = services.job_add(actor=advisor, repair_order=ro, data={"code": "A", "name": "更换空滤", "hours": "0.5"})
    drop = services.job_add(actor=advisor, repair_order=ro, data={"code": "B", "name": "清洗节气门", "hours": "1"})
    services.repair_order_advance(actor=advisor, repair_order=ro)
    link, url = services.estimate_send(actor=advisor, repair_order=ro)
    owner = Client()  # no login
    page = owner.get(url)
    assert page.status_code == 200 and 'data-testid="estimate-form"' in page.content.decode()
    r = owner.post(url, {f"job:{keep.pk}": "approved"})  # one line unanswered
    assert r.status_code == 400
    r = owner.post(url, {f"job:{keep.pk}": "approved", f"job:{drop.pk}": "declined"})
    assert r.status_code == 302
    page = owner.get(url).content.decode()
    assert 'data-testid="progress"' in page and "清洗节气门" in page
    again = owner.post(url, {f"job:{drop.pk}": "approved"})
    assert again.status_code == 410 and 'data-reason="used"' in again.content.decode()
    assert Job.objects.get(pk=drop.pk).approval == "declined"
    part = login("advisor_a1").get(reverse("service:customer_service_part", args=[ro.customer_id]))
    assert 'data-testid="declined-work"' in part.content.decode()
    from django.utils import timezone

    EstimateLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    r = owner.get(url)
    assert r.status_code == 410 and 'data-reason="expired"' in r.content.decode()
    assert owner.get("/e/forged-token/").status_code == 404


def test_the_bill_prints_and_is_paid_from_its_page(advisor):
    ro = _ro_with_lines(advisor, 2)
    services.repair_order_advance(actor=advisor, repair_order=ro)
    services.repair_order_advance(actor=advisor, repair_order=ro)
    answers = {f"job:{j.pk}": "approved" for j in ro.jobs.all()} | {
        f"part:{p.pk}": "approved" for p in ro.part_lines.all()
    }
    services.estimate_record(actor=advisor, repair_order=ro, answers=answers)
    for job in ro.jobs.all():
        services.job_progress(actor=actor_for("service_manager_a"), job=job, data={"progress": "done"})
    services.repair_order_advance(actor=advisor, repair_order=ro)
    services.repair_order_advance(actor=advisor, repair_order=ro)
    from autocrm.service.models import Bill

    bill = Bill.objects.get(repair_order=ro)
    client = login("advisor_a1")
    body = client.get(reverse("service:bill_detail", args=[bill.pk])).content.decode()
    assert "¥380.00" in body  # 2 × 180.00 labour + 2 × 10.00 parts
    assert client.post(reverse("service:bill_pay", args=[bill.pk]), {"method": "cash"}).status_code == 302
    bill.refresh_from_db()
    assert bill.status == "paid"


def test_repair_order_list_shows_each_row_with_the_same_queries_for_few_and_many(advisor):
    client = login("service_manager_a")
    counts = []
    for extra in (1, 6):
        for _ in range(extra):
            make_ro(advisor)
        client.get(reverse("service:repair_order_list"))  # warm the caches
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("service:repair_order_list"), HTTP_ACCEPT_LANGUAGE="zh-hans")
        counts.append(len(ctx))
    ro = make_ro(advisor)
    body = client.get(reverse("service:repair_order_list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ro.number in body and ro.customer.name in body and str(ro.vehicle) in body
    with translation.override("zh-hans"):
        received = str(RoStatus.RECEIVED.label)
    assert body.count(received) >= 2  # the status in Chinese, on the phone card and in the table
    assert counts[0] == counts[1], counts


def test_job_rows_show_the_owners_answer_and_progress_choices(advisor):
    ro = _ro_with_lines(advisor, 2)
    Job.objects.filter(repair_order=ro).update(approval="approved", progress="in_progress")
    PartLine.objects.filter(repair_order=ro).update(approval="approved")
    body = login("service_manager_a").get(reverse("service:repair_order_detail", args=[ro.pk]),
                                          HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()  # fmt: skip
    with translation.override("zh-hans"):
        approved = str(Approval.APPROVED.label)
    assert approved != "Approved" and body.count(approved) >= 4  # each job's and part's answer, in Chinese
    assert body.count('<option value="in_progress" selected>') == 2
