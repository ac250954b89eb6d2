"""The maintenance API and pages: shapes, scope (another store's vehicle is a 404, mobiles masked),
filters and keyset pages, the recall upload with its dry run, and hostile input (400 naming the
field, never a 500)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.customers.tests.test_api import bearer
from autocrm.maintenance import services
from autocrm.maintenance.engine import add_months
from autocrm.maintenance.models import RecallCampaign, RecallVehicle
from autocrm.maintenance.tests.factories import make_vehicle


def client_for(username):
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def fleet(world):
    owner = make_customer(actor_for("manager_a", "a"), name="李车主", mobile="13912345678")
    today = timezone.localdate()
    # Ten km a day: the first service is due by time (six months after the delivery), in three days.
    due = make_vehicle(world["a"], customer=owner, delivered=add_months(today, -6) + dt.timedelta(days=3),
                       readings=[(60, 600), (160, 1600)])  # fmt: skip
    later = [make_vehicle(world["a"], delivered=today - dt.timedelta(days=30), readings=[(20, 400)]) for _ in range(3)]
    other = make_vehicle(world["b"], readings=[(100, 3000)])
    services.due_recompute(store_id=world["a"].pk)
    services.due_recompute(store_id=world["b"].pk)
    return {"due": due, "later": later, "other": other, "owner": owner}


def get(path, username, **params):
    return Client(raise_request_exception=False).get(f"/api/v1{path}", params, **bearer(username))


def test_vehicle_maintenance_answer(fleet):
    r = get(f"/vehicles/{fleet['due'].pk}/maintenance", "advisor_a1")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["rate"]["method"] == "readings" and body["rate"]["km_per_day"] == pytest.approx(10)
    assert "Theil" in body["rate"]["explanation"] or "泰尔" in body["rate"]["explanation"]
    assert body["next_due_on"] == body["due_items"][0]["due_on"]
    assert {"service", "oil"} <= {d["item"] for d in body["due_items"]}
    assert body["due_items"][0]["by"] == "time"  # 10 km a day: six months come before 5,000 km
    assert get(f"/vehicles/{fleet['other'].pk}/maintenance", "advisor_a1").status_code == 404
    assert get("/vehicles/999999/maintenance", "advisor_a1").status_code == 404
    # The finance desk reads vehicles for renewals, and their next service too; a consultant only their own.
    assert get(f"/vehicles/{fleet['due'].pk}/maintenance", "sales_a1").status_code == 404


def test_due_list_api_filters_pages_and_masks(fleet):
    r = get("/maintenance-due", "advisor_a1", weeks="2")
    assert r.status_code == 200
    rows = r.json()["items"]
    assert [x["vehicle"] for x in rows] == [fleet["due"].pk]
    assert rows[0]["owner_mobile"] == "139****5678"
    assert fleet["other"].pk not in [
        x["vehicle"] for x in get("/maintenance-due", "advisor_a1", weeks="52").json()["items"]
    ]
    first = get("/maintenance-due", "advisor_a1", weeks="52", limit="2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = get("/maintenance-due", "advisor_a1", weeks="52", limit="2", cursor=first["next_cursor"]).json()
    seen = [x["vehicle"] for x in first["items"] + rest["items"]]
    assert len(seen) == len(set(seen)) == 4
    assert get("/maintenance-due", "advisor_a1", item="oil", weeks="52").status_code == 200
    for params, field in (({"weeks": "abc"}, "weeks"), ({"weeks": "0"}, "weeks"), ({"item": "wash"}, "item"),
                          ({"overdue": "maybe"}, "overdue"), ({"cursor": "garbage"}, "cursor")):  # fmt: skip
        r = get("/maintenance-due", "advisor_a1", **params)
        assert r.status_code == 400, (params, r.content)
        assert field in r.json()["fields"], r.json()
    director = get("/maintenance-due", "director", weeks="52").json()["items"]
    assert fleet["other"].pk in [x["vehicle"] for x in director]


def test_recall_api_upload_dry_run_list_and_complete(fleet):
    vin = fleet["due"].vin
    api = Client(raise_request_exception=False)

    def upload(content, name="recall.csv", **form):
        return api.post("/api/v1/recalls", {"file": SimpleUploadedFile(name, content), **form},
                        **bearer("service_manager_a"))  # fmt: skip

    csv = f"VIN\n{vin.lower()}\n{fleet['other'].vin}\nBAD\n".encode()
    r = upload(csv, code="R1", title="安全气囊", dry_run="true")
    assert r.status_code == 200, r.content
    assert (r.json()["matched_here"], r.json()["matched_other_stores"], r.json()["invalid_rows"]) == (
        1, 1, [{"row": 4, "value": "BAD"}])  # fmt: skip
    assert not RecallCampaign.objects.exists()
    r = upload(csv, code="R1", title="安全气囊")
    assert r.status_code == 201
    campaign = r.json()["campaign"]
    rows = get("/recalls", "advisor_a1").json()
    assert [(x["code"], x["affected"], x["completion_rate"]) for x in rows] == [("R1", 1, 0.0)]
    vehicles = get(f"/recalls/{campaign}/vehicles", "advisor_a1").json()
    assert vehicles[0]["owner_mobile"] == "139****5678"
    assert get(f"/recalls/{campaign}/vehicles", "advisor_b1").status_code == 404
    rv = vehicles[0]["id"]
    r = api.post(f"/api/v1/recall-vehicles/{rv}/complete", {"reference": ["x"]}, content_type="application/json",
                 **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 400 and "reference" in r.json()["fields"]
    r = api.post(f"/api/v1/recall-vehicles/{rv}/complete", {"reference": "RO-9"}, content_type="application/json",
                 **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert get("/recalls", "advisor_a1").json()[0]["completion_rate"] == 1.0
    assert upload(b"%PDF-1.4", name="recall.pdf", code="R2", title="t").status_code == 400
    assert upload(b"VIN\nabc\x00\n", code="R2", title="t").status_code == 400
    assert upload(csv, code="R2", title="").json()["fields"].keys() == {"title"}
    r = api.post("/api/v1/recalls", {"file": SimpleUploadedFile("r.csv", csv), "code": "R3", "title": "t"},
                 **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 403


def test_pages_show_the_due_list_recalls_renewals_and_panels(fleet):
    advisor = client_for("advisor_a1")
    page = advisor.get(reverse("maintenance:due_list"), {"weeks": "2"})
    assert page.status_code == 200
    assert fleet["due"].plate in page.content.decode() and "139****5678" in page.content.decode()
    assert fleet["other"].plate not in page.content.decode()
    assert advisor.get(reverse("maintenance:due_list"), {"weeks": "x"}).status_code == 400
    assert advisor.get(reverse("maintenance:renewal_list")).status_code == 200
    assert advisor.get(reverse("maintenance:recall_list")).status_code == 200
    vehicle_page = advisor.get(reverse("vehicles:vehicle_detail", args=[fleet["due"].pk])).content.decode()
    assert 'id="vehicle-maintenance"' in vehicle_page and "data-next-due" in vehicle_page
    c360 = advisor.get(reverse("customers:customer_detail", args=[fleet["owner"].pk])).content.decode()
    part_url = reverse("maintenance:customer_part", args=[fleet["owner"].pk])
    assert part_url in c360
    part = advisor.get(part_url, HTTP_HX_REQUEST="true")
    assert part.status_code == 200 and "data-next-due" in part.content.decode()
    assert client_for("advisor_b1").get(part_url).status_code == 404
    home = advisor.get("/").content.decode()
    assert 'id="panel-maintenance-due"' in home and fleet["due"].plate in home


def test_recall_page_import_notify_and_complete(fleet):
    manager = client_for("service_manager_a")
    vin = fleet["due"].vin
    r = manager.post(reverse("maintenance:recall_list"), {
        "file": SimpleUploadedFile("r.csv", f"车架号\n{vin}\n".encode()), "code": "R7", "title": "燃油泵",
        "dry_run": "on"})  # fmt: skip
    assert r.status_code == 200 and 'id="recall-preview"' in r.content.decode()
    assert not RecallCampaign.objects.exists()
    r = manager.post(reverse("maintenance:recall_list"), {
        "file": SimpleUploadedFile("r.csv", f"车架号\n{vin}\n".encode()), "code": "R7", "title": "燃油泵"})  # fmt: skip
    assert r.status_code == 302
    campaign = RecallCampaign.objects.get(code="R7")
    detail = manager.get(reverse("maintenance:recall_detail", args=[campaign.pk]))
    assert detail.status_code == 200 and "139****5678" in detail.content.decode()
    assert manager.post(reverse("maintenance:recall_notify", args=[campaign.pk])).status_code == 302
    rv = RecallVehicle.objects.get(campaign=campaign)
    assert rv.status == "notified"
    r = client_for("advisor_a1").post(reverse("maintenance:recall_complete", args=[rv.pk]), {"reference": "RO-1"})
    assert r.status_code == 302
    rv.refresh_from_db()
    assert rv.status == "completed"
    bad = manager.post(reverse("maintenance:recall_list"), {
        "file": SimpleUploadedFile("r.exe", b"MZ"), "code": "R8", "title": "x"})  # fmt: skip
    assert bad.status_code == 400
    assert client_for("advisor_a1").post(reverse("maintenance:recall_list"), {"title": "x"}).status_code == 403


def test_home_panel_lists_this_weeks_calls_not_lapsed_owners(fleet):
    """An owner overdue for months is the due list's "only overdue" (win-back), not one of this
    week's calls; the panel names the owner beside the plate and links to the overdue list."""
    from autocrm.maintenance.models import VehicleDue
    from autocrm.maintenance.selectors import CALL_OVERDUE_DAYS

    today = timezone.localdate()
    lapsed = fleet["later"][0]
    VehicleDue.objects.filter(vehicle=lapsed).update(next_due_on=today - dt.timedelta(days=CALL_OVERDUE_DAYS + 40))
    recent = fleet["later"][1]
    VehicleDue.objects.filter(vehicle=recent).update(next_due_on=today - dt.timedelta(days=5))
    advisor = client_for("advisor_a1")
    home = advisor.get("/").content.decode()
    panel = home[home.index('id="panel-maintenance-due"') :]
    panel = panel[: panel.index("</div>\n</div>")]
    assert recent.vin in panel or (recent.plate and recent.plate in panel)
    assert fleet["due"].plate in panel and "李车主" in panel
    assert lapsed.vin not in panel and (not lapsed.plate or lapsed.plate not in panel)
    assert "overdue=only" in panel
    overdue = advisor.get(reverse("maintenance:due_list"), {"overdue": "only"}).content.decode()
    assert lapsed.vin in overdue or lapsed.plate in overdue


def test_due_list_reads_as_cards_on_a_phone(fleet):
    page = client_for("advisor_a1").get(reverse("maintenance:due_list"), {"weeks": "2"}).content.decode()
    cards = page[page.index('id="due-cards"') : page.index('id="due-table"')]
    assert 'class="list-group-item due-card"' in cards and fleet["due"].plate in cards and "139****5678" in cards
