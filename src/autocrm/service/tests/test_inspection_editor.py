"""The inspection checklist editor and the inspection API (ADR 0031): the service manager
orders areas and items, marks the ones that need a photo and gives a finding its default canned
job; the page and GET/PUT /api/v1/inspection-checklist; a repair order's inspection over the API
(start, results all or nothing, photos, recommended work) scoped like the repair order."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from autocrm.accounts.models import User
from autocrm.audit.models import AuditEvent
from autocrm.core.errors import ValidationError
from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer
from autocrm.service import inspection
from autocrm.service.models import InspectionItem, InspectionTemplate, Job

from .factories import JPEG, make_canned, make_ro

URL = "/api/v1/inspection-checklist"


def login(username):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


@pytest.fixture
def manager(demo):
    return actor_for("service_manager_a")


def _put(items, username="service_manager_a"):
    return Client().put(URL, {"items": items}, content_type="application/json", **bearer(username))


def test_the_editor_orders_marks_photos_and_default_work_and_inspections_copy_it(advisor, manager):
    canned = make_canned(manager)
    client = login("service_manager_a")
    page = client.get("/service/inspection/checklist/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "环车检查" in html and 'data-testid="checklist-save"' in html
    # Rows as the form posts them: the body item moved first by its order number, one removed,
    # one new in a blank row, the photo and default job set.
    data = {"rows": "4",
            "order-0": "2", "area-0": "轮胎", "label-0": "左前轮胎纹", "canned_job-0": "",
            "order-1": "3", "area-1": "轮胎", "label-1": "右前轮胎纹", "delete-1": "1",
            "order-2": "1", "area-2": "车身", "label-2": "漆面与凹陷", "photo-2": "1", "canned_job-2": str(canned.pk),
            "order-3": "", "area-3": "制动系统", "label-3": "刹车片"}  # fmt: skip
    r = client.post("/service/inspection/checklist/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    row = InspectionTemplate.objects.get(store_id=manager.store_id)
    assert row.items == [
        {"area": "车身", "label": "漆面与凹陷", "photo": True, "canned_job": canned.pk},
        {"area": "轮胎", "label": "左前轮胎纹", "photo": False, "canned_job": None},
        {"area": "制动系统", "label": "刹车片", "photo": False, "canned_job": None},
    ]
    assert AuditEvent.objects.filter(action="inspection_checklist.save").count() == 1
    ro = make_ro(advisor)
    insp = inspection.inspection_start(actor=advisor, repair_order=ro)
    body = InspectionItem.objects.get(inspection=insp, position=0)
    assert (body.label, body.photo_required, body.canned_job_id) == ("漆面与凹陷", True, canned.pk)
    # A colour on an item that needs a photo, without one: refused naming the photo.
    with pytest.raises(ValidationError) as exc:
        inspection.inspection_item_set(actor=advisor, item=body, data={"rating": "red"})
    assert "photo" in exc.value.fields
    inspection.inspection_item_set(actor=advisor, item=body, data={"rating": "red", "note": "右后门凹陷"}, new_photos=1)
    # The finding becomes the default canned job when none is named.
    made = inspection.inspection_recommend(actor=advisor, item=body, data={})
    assert any(isinstance(m, Job) and m.canned_job_id == canned.pk for m in made)
    # The edit page shows the new list; the advisor reads it without the save button.
    html = login("advisor_a1").get("/service/inspection/checklist/").content.decode()
    assert "漆面与凹陷" in html and 'data-testid="checklist-save"' not in html
    assert login("advisor_a1").post("/service/inspection/checklist/", data).status_code == 403


def test_bad_rows_are_a_400_naming_the_line_and_nothing_changes(advisor, manager):
    before = inspection.checklist_items(inspection.template_for(manager.store_id))
    client = login("service_manager_a")
    r = client.post("/service/inspection/checklist/", {"rows": "2", "area-0": "轮胎", "label-0": "",
                                                       "area-1": "轮胎", "label-1": "x" * 101})  # fmt: skip
    assert r.status_code == 400
    assert 'data-testid="checklist-errors"' in r.content.decode()
    assert inspection.checklist_items(inspection.template_for(manager.store_id)) == before


def test_the_checklist_api_get_put_scope_and_bad_input(advisor, manager):
    canned = make_canned(manager)
    r = Client().get(URL, **bearer("advisor_a1"))
    assert r.status_code == 200 and len(r.json()["items"]) == len(inspection.DEFAULT_ITEMS)
    first = r.json()["items"][0]
    assert (first["area"], first["photo"], first["canned_job"]) == ("轮胎", False, None)
    items = [
        {"area": "车身", "label": "漆面", "photo": True, "canned_job": canned.pk},
        {"area": "轮胎", "label": "胎压"},
    ]
    r = _put(items)
    assert r.status_code == 200, r.content
    assert r.json()["items"][0] == items[0] and r.json()["items"][1]["photo"] is False
    assert _put(items, "advisor_a1").status_code == 403
    assert _put(items, "tech_a1").status_code == 403
    assert Client().get(URL, **bearer("agent_a1")).status_code == 403
    for bad in ([], None, "", [{"area": "a"}], [{"label": "x", "photo": "maybe"}], [{"label": "x", "canned_job": 10**9}],
                [{"label": "x", "canned_job": "abc"}], [{"label": "\x00"}], [{}] * 81, {"label": "x"}):  # fmt: skip
        r = _put(bad)
        assert r.status_code == 400, (bad, r.content)
        assert any(k.startswith("items") for k in r.json()["fields"]), (bad, r.json())
    # Another store's canned job is not this store's default.
    b_canned = make_canned(actor_for("manager_b"), code="B10K")
    assert _put([{"label": "x", "canned_job": b_canned.pk}]).status_code == 400
    assert Client().get(URL, **bearer("manager_b")).json()["items"][0]["label"] != "漆面"
    assert InspectionTemplate.objects.get(store_id=manager.store_id).items[0]["label"] == "漆面"


def test_the_inspection_api_start_results_photos_and_recommend(advisor, manager):
    inspection.inspection_template_save(actor=manager, data={"items": [
        {"area": "车身", "label": "漆面", "photo": True}, {"area": "轮胎", "label": "左前轮"},
        {"area": "轮胎", "label": "右前轮"}]})  # fmt: skip
    ro = make_ro(advisor)
    api = Client()
    path = f"/api/v1/repair-orders/{ro.pk}/inspection"
    r = api.get(path, **bearer("advisor_a1"))
    assert r.status_code == 200 and r.json()["started"] is False and r.json()["items"] == []
    r = api.post(path, **bearer("advisor_a1"))
    assert r.status_code == 201
    ids = [i["id"] for i in r.json()["items"]]
    assert [i["photo_required"] for i in r.json()["items"]] == [True, False, False]
    # All or nothing: the second entry is bad, the first is not kept.
    r = api.post(path + "/results", {"results": [{"item": ids[1], "rating": "green"},
                                                 {"item": ids[2], "rating": "purple"}]},
                 content_type="application/json", **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 400 and "results[1].rating" in r.json()["fields"]
    assert InspectionItem.objects.get(pk=ids[1]).rating == ""
    for bad in ([{"item": 10**9, "rating": "red"}], [{"rating": "red"}], ["x"], [], "x"):
        r = api.post(path + "/results", {"results": bad}, content_type="application/json", **bearer("advisor_a1"))
        assert r.status_code == 400, bad
    # The item needing a photo: refused without, taken once the photo is uploaded.
    r = api.post(path + "/results", {"results": [{"item": ids[0], "rating": "red", "note": "划痕"}]},
                 content_type="application/json", **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 400 and "results[0].photo" in r.json()["fields"]
    photo = SimpleUploadedFile("paint.jpg", JPEG, content_type="image/jpeg")
    r = api.post(f"{path}/items/{ids[0]}/photos", {"photo": photo}, **bearer("advisor_a1"))
    assert r.status_code == 201, r.content
    bad_photo = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    assert api.post(f"{path}/items/{ids[0]}/photos", {"photo": bad_photo}, **bearer("advisor_a1")).status_code == 400
    # The technician records results too.
    r = api.post(path + "/results", {"results": [{"item": ids[0], "rating": "red", "note": "划痕"},
                                                 {"item": ids[1], "rating": "amber"}]},
                 content_type="application/json", **bearer("tech_a1"))  # fmt: skip
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["summary"] == {"green": 0, "amber": 1, "red": 1, "unchecked": 1}
    assert len(body["items"][0]["photos"]) == 1
    # The technician may not sell the work; the advisor may.
    assert api.post(f"{path}/items/{ids[1]}/recommend", {"hours": "0.5"}, content_type="application/json",
                    **bearer("tech_a1")).status_code == 403  # fmt: skip
    r = api.post(f"{path}/items/{ids[1]}/recommend", {"hours": "0.5"}, content_type="application/json",
                 **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 200 and r.json()["items"][1]["job"]
    assert api.post(f"{path}/items/{ids[1]}/recommend", {}, content_type="application/json",
                    **bearer("advisor_a1")).status_code == 409  # fmt: skip
    # Another store's people: the repair order is not there for them.
    for username in ("advisor_b1", "manager_b"):
        assert api.get(path, **bearer(username)).status_code == 404
        assert api.post(path + "/results", {"results": [{"item": ids[2], "rating": "red"}]},
                        content_type="application/json", **bearer(username)).status_code == 404  # fmt: skip
        assert api.post(f"{path}/items/{ids[2]}/photos", {"photo": photo}, **bearer(username)).status_code == 404
    assert api.get(path, **bearer("sales_a1")).status_code in (403, 404)  # sales: no after-sales records at all
    # Another repair order's item through this one: not found.
    other = make_ro(advisor)
    api.post(f"/api/v1/repair-orders/{other.pk}/inspection", **bearer("advisor_a1"))
    assert api.post(f"/api/v1/repair-orders/{other.pk}/inspection/items/{ids[2]}/recommend", {},
                    content_type="application/json", **bearer("advisor_a1")).status_code == 404  # fmt: skip


class TestChecklistMultistore(MultistoreMatrix):
    builders = {}
    namespaces = []
    api_prefixes = ["/inspection-checklist"]
    ops = [
        Op("/inspection-checklist", "service.inspectiontemplate", "view", api=True, record=False),
        Op(
            "/inspection-checklist",
            "service.inspectiontemplate",
            "change",
            api=True,
            record=False,
            method="PUT",
            data={"items": [{"area": "轮胎", "label": "胎压"}]},
        ),
    ]
    exempt = {}
