"""The digital inspection at reception: the checklist, colours and notes, photos (type and size
checked, served after the permission check), findings that become recommended work, the owner's
view through the estimate link, and the booking pickers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from autocrm.accounts.models import User
from autocrm.core import uploads
from autocrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for
from autocrm.service import inspection, services
from autocrm.service.models import InspectionItem, InspectionPhoto, InspectionTemplate, Job

from .factories import JPEG, make_canned, make_car, make_ro


def login(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


def _started(advisor, **kw):
    ro = make_ro(advisor, **kw)
    return ro, inspection.inspection_start(actor=advisor, repair_order=ro)


def _item(insp, area="轮胎"):
    return InspectionItem.objects.filter(inspection=insp, area=area).order_by("position").first()


def test_the_default_checklist_is_chinese_grouped_by_area_and_made_once(advisor):
    ro, insp = _started(advisor)
    items = inspection.items_of(insp)
    areas = [g["area"] for g in inspection.grouped(items)]
    assert areas[:5] == ["轮胎", "制动系统", "灯光", "油液", "蓄电池"]
    assert "雨刮" in areas and "车身" in areas
    assert len(items) == len(inspection.DEFAULT_ITEMS)
    assert inspection.inspection_start(actor=advisor, repair_order=ro).pk == insp.pk  # the same one
    assert InspectionItem.objects.filter(inspection=insp).count() == len(items)


def test_the_store_checklist_is_the_service_managers(advisor):
    manager = actor_for("service_manager_a")
    inspection.inspection_template_save(actor=manager, data={"items": "轮胎: 左前轮\n轮胎：右前轮\n灯光: 大灯"})
    assert InspectionTemplate.objects.get(store_id=manager.store_id).items[1] == {
        "area": "轮胎",
        "label": "右前轮",
        "photo": False,
        "canned_job": None,
    }
    _ro, insp = _started(advisor)
    assert [i.label for i in inspection.items_of(insp)] == ["左前轮", "右前轮", "大灯"]
    with pytest.raises(PermissionDenied):
        inspection.inspection_template_save(actor=advisor, data={"items": "x: y"})
    for bad in ([], "", [{"area": "a"}], [{"label": "x\x00"}], [{"label": "x" * 101}], ["x"], 5, [{}] * 81):
        with pytest.raises(ValidationError) as exc:
            inspection.inspection_template_save(actor=manager, data={"items": bad})
        assert "items" in exc.value.fields


def test_colours_and_notes_and_bad_input_name_the_field(advisor):
    _ro, insp = _started(advisor)
    item = _item(insp)
    item = inspection.inspection_item_set(actor=advisor, item=item, data={"rating": "red", "note": "花纹深度 1.2mm"})
    assert (item.rating, item.note) == ("red", "花纹深度 1.2mm")
    for data, field in (({"rating": "purple"}, "rating"), ({"rating": ["red"]}, "rating"),
                        ({"note": "a\x00b"}, "note"), ({"note": "x" * 501}, "note")):  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            inspection.inspection_item_set(actor=advisor, item=item, data=data)
        assert field in exc.value.fields
    assert InspectionItem.objects.get(pk=item.pk).rating == "red"
    counts = inspection.summary(inspection.items_of(insp))
    assert counts["red"] == 1 and counts["unchecked"] == len(inspection.DEFAULT_ITEMS) - 1


def test_photos_are_checked_by_content_and_size(advisor, settings):
    _ro, insp = _started(advisor)
    item = _item(insp)
    photo = inspection.inspection_photo_add(actor=advisor, item=item, file=SimpleUploadedFile("tyre.jpg", JPEG))
    assert photo.content_type == "image/jpeg" and uploads.path_of(photo.path).exists()
    for upload in (SimpleUploadedFile("x.jpg", b"#!/bin/sh\nrm -rf /\n" * 4), SimpleUploadedFile("e.jpg", b""),
                   SimpleUploadedFile("doc.pdf", b"%PDF-1.4\n" + b"0" * 64)):  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            inspection.inspection_photo_add(actor=advisor, item=item, file=upload)
        assert "photo" in exc.value.fields
    big = SimpleUploadedFile("big.jpg", JPEG)
    big.size = 13 * uploads.MB
    with pytest.raises(ValidationError):
        inspection.inspection_photo_add(actor=advisor, item=item, file=big)
    assert InspectionPhoto.objects.filter(item=item).count() == 1
    for _n in range(inspection.MAX_PHOTOS_PER_ITEM - 1):
        inspection.inspection_photo_add(actor=advisor, item=item, file=SimpleUploadedFile("t.jpg", JPEG))
    with pytest.raises(Conflict):
        inspection.inspection_photo_add(actor=advisor, item=item, file=SimpleUploadedFile("t.jpg", JPEG))


def test_amber_and_red_findings_become_recommended_work_once(advisor):
    ro, insp = _started(advisor)
    tyre, brake = _item(insp), _item(insp, "制动系统")
    with pytest.raises(Conflict):  # not checked yet
        inspection.inspection_recommend(actor=advisor, item=tyre, data={})
    inspection.inspection_item_set(actor=advisor, item=tyre, data={"rating": "green"})
    with pytest.raises(Conflict):
        inspection.inspection_recommend(actor=advisor, item=tyre, data={})
    inspection.inspection_item_set(actor=advisor, item=tyre, data={"rating": "amber", "note": "偏磨"})
    [job] = inspection.inspection_recommend(actor=advisor, item=tyre, data={"hours": "0.5"})
    assert job.name == "左前轮胎花纹（偏磨）" and job.hours == 0.5 and job.approval == "pending"
    assert InspectionItem.objects.get(pk=tyre.pk).job_id == job.pk
    with pytest.raises(Conflict):
        inspection.inspection_recommend(actor=advisor, item=tyre, data={})
    canned = make_canned(actor_for("service_manager_a"))
    inspection.inspection_item_set(actor=advisor, item=brake, data={"rating": "red"})
    for data in ({"hours": "-1"}, {"hours": "1e9"}, {"canned_job": "abc"}, {"canned_job": "999999999"}):
        with pytest.raises(ValidationError):
            inspection.inspection_recommend(actor=advisor, item=brake, data=data)
    made = inspection.inspection_recommend(actor=advisor, item=brake, data={"canned_job": str(canned.pk)})
    assert {m.name for m in made} >= {"更换机油机滤", "机油滤清器"}
    assert [i.label for i in inspection.findings(inspection.items_of(insp))] == ["前制动片及制动盘", "左前轮胎花纹"]
    assert Job.objects.filter(repair_order=ro).count() == 2


def test_the_technician_fills_but_does_not_sell_and_other_stores_are_out_of_scope(advisor):
    ro, insp = _started(advisor)
    tech = actor_for("tech_a1")
    item = inspection.inspection_item_set(actor=tech, item=_item(insp), data={"rating": "red"})
    inspection.inspection_photo_add(actor=tech, item=item, file=SimpleUploadedFile("t.jpg", JPEG))
    with pytest.raises(PermissionDenied):
        inspection.inspection_recommend(actor=tech, item=item, data={})
    other = actor_for("advisor_b1")
    with pytest.raises((PermissionDenied, NotFound)):
        inspection.inspection_item_set(actor=other, item=item, data={"rating": "green"})
    assert InspectionItem.objects.get(pk=item.pk).rating == "red"
    with pytest.raises(PermissionDenied):
        inspection.inspection_start(actor=actor_for("sales_a1"), repair_order=ro)


def test_a_delivered_order_is_not_inspected_any_more(advisor):
    ro, insp = _started(advisor)
    from autocrm.service.models import RepairOrder

    RepairOrder.objects.filter(pk=ro.pk).update(status="delivered")
    with pytest.raises(Conflict):
        inspection.inspection_item_set(actor=advisor, item=_item(insp), data={"rating": "green"})


def test_the_inspection_pages_on_a_phone_and_their_photos_behind_the_permission(advisor):
    ro = make_ro(advisor)
    client = login("advisor_a1")
    page = client.get(reverse("service:inspection", args=[ro.pk]))
    assert page.status_code == 200 and 'data-testid="inspection-start"' in page.content.decode()
    assert client.post(reverse("service:inspection_start", args=[ro.pk])).status_code == 302
    insp = inspection.inspection_of(ro)
    item = _item(insp)
    url = reverse("service:inspection_item_save", args=[ro.pk, item.pk])
    r = client.post(url, {"rating": "red", "note": "鼓包", "photo": SimpleUploadedFile("p.jpg", JPEG)},
                    HTTP_HX_REQUEST="true")  # fmt: skip
    body = r.content.decode()
    assert r.status_code == 200 and 'data-testid="item-saved"' in body and 'data-testid="item-photos"' in body
    r = client.post(url, {"rating": "red", "photo": SimpleUploadedFile("p.jpg", b"MZ\x90\x00" * 20)},
                    HTTP_HX_REQUEST="true")  # fmt: skip
    assert r.status_code == 200 and 'role="alert"' in r.content.decode()
    assert client.post(url, {"rating": "x\x00"}).status_code == 400  # without htmx: the field's 400
    assert client.post(url, {"note": "n" * 10_000}).status_code == 400
    page = client.get(reverse("service:inspection", args=[ro.pk])).content.decode()
    assert 'data-testid="findings"' in page and "鼓包" in page and 'capture="environment"' in page
    part = client.get(reverse("service:inspection_part", args=[ro.pk])).content.decode()
    assert 'data-testid="recommend"' in part
    r = client.post(reverse("service:inspection_recommend", args=[ro.pk, item.pk]), {"hours": "1", "next": "ro"})
    assert r.status_code == 302 and r.url == reverse("service:repair_order_detail", args=[ro.pk])
    assert Job.objects.filter(repair_order=ro).count() == 1
    photo = InspectionPhoto.objects.get(item=item)
    photo_url = reverse("service:inspection_photo", args=[ro.pk, photo.pk])
    r = client.get(photo_url)
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg" and b"".join(r.streaming_content) == JPEG
    other = login("advisor_b1")
    assert other.get(photo_url).status_code == 404
    assert other.get(reverse("service:inspection", args=[ro.pk])).status_code == 404
    assert other.post(url, {"rating": "green"}).status_code == 404
    assert client.get(reverse("service:inspection_photo", args=[ro.pk, 99999999])).status_code == 404
    assert client.post(reverse("service:inspection_item_save", args=[ro.pk, 2**40]), {}).status_code == 404
    assert Client().get(photo_url).status_code == 302  # to the login


def test_the_owner_sees_the_findings_with_photos_through_the_estimate_link(advisor):
    ro, insp = _started(advisor)
    item = inspection.inspection_item_set(actor=advisor, item=_item(insp), data={"rating": "red", "note": "鼓包"})
    photo = inspection.inspection_photo_add(actor=advisor, item=item, file=SimpleUploadedFile("p.jpg", JPEG))
    inspection.inspection_recommend(actor=advisor, item=item, data={})
    services.repair_order_advance(actor=advisor, repair_order=ro)
    _link, url = services.estimate_send(actor=advisor, repair_order=ro)
    owner = Client()
    page = owner.get(url).content.decode()
    assert 'data-testid="owner-findings"' in page and "鼓包" in page and 'data-testid="owner-finding-photo"' in page
    token = url.rstrip("/").rsplit("/", 1)[-1]
    r = owner.get(reverse("service_public:inspection_photo", args=[token, photo.pk]))
    assert r.status_code == 200 and b"".join(r.streaming_content) == JPEG
    _ro2, insp2 = _started(advisor)
    other = inspection.inspection_photo_add(actor=advisor, item=_item(insp2), file=SimpleUploadedFile("q.jpg", JPEG))
    assert owner.get(reverse("service_public:inspection_photo", args=[token, other.pk])).status_code == 404
    assert owner.get(reverse("service_public:inspection_photo", args=["forged", photo.pk])).status_code == 404


def test_the_booking_picker_finds_the_stores_own_by_plate_mobile_or_name(advisor):
    customer, car = make_car(advisor, plate="沪A7K123")
    customer.name = "拣选测试车主"
    customer.save()
    b_customer, _b_car = make_car(actor_for("advisor_b1"), plate="沪B7K123")
    client = login("advisor_a1")
    for q in ("7K123", "沪A7K123", "拣选测试"):
        body = client.get(reverse("service:pick"), {"q": q}, HTTP_HX_REQUEST="true").content.decode()
        assert f'data-customer="{customer.pk}"' in body and f'data-vehicle="{car.pk}"' in body, q
        assert f'data-customer="{b_customer.pk}"' not in body
    for q in ("", "a", "\x00\x00", "x" * 5000, "%", "沪", "' OR 1=1 --"):
        r = client.get(reverse("service:pick"), {"q": q})
        assert r.status_code in (200, 400) and "data-pick " not in r.content.decode(), q
    assert login("tech_a1").get(reverse("service:pick"), {"q": "7K123"}).status_code == 403
    page = client.get(reverse("service:appointment_list")).content.decode()
    assert 'data-testid="pick-input"' in page and 'name="customer"' in page
    assert 'data-testid="pick-input"' in client.get(reverse("service:repair_order_list")).content.decode()
