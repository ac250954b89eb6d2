"""The maintenance pages and API in the inherited role × scope matrix (autocrm.core.testing):
every role on its own record, a colleague's, another store's and a missing one."""

from __future__ import annotations

import itertools

from django.core.files.uploadedfile import SimpleUploadedFile

from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.customers.tests.test_multistore import build_customer
from autocrm.maintenance.models import RecallCampaign, RecallVehicle
from autocrm.vehicles.tests.test_multistore import build_vehicle, new_vin

V, C = "vehicles.vehicle", "customers.customer"
DUE, RC, RV = "maintenance.vehicledue", "maintenance.recallcampaign", "maintenance.recallvehicle"
SP = "maintenance.serviceplan"
_codes = itertools.count(1)


def build_recalled(store, owner):
    vehicle = build_vehicle(store, owner)
    campaign = RecallCampaign.objects.create(store=store, organization_id=store.organization_id,
                                             code=f"M{next(_codes):05d}", title="矩阵召回", vin_count=1)  # fmt: skip
    return RecallVehicle.objects.create(store=store, campaign=campaign, vehicle=vehicle)


def build_campaign(store, owner):
    return build_recalled(store, owner).campaign


def build_plan(store, owner):
    from autocrm.maintenance.models import PlanItem, ServicePlan
    from autocrm.vehicles.models import Brand, Series

    brand, _created = Brand.objects.get_or_create(name="矩阵品牌")
    series = Series.objects.create(brand=brand, name=f"矩阵{next(_codes)}")
    plan = ServicePlan.objects.create(store=store, series=series, name="矩阵计划")
    PlanItem.objects.create(plan=plan, item="service", interval_km=10000, interval_months=12)
    PlanItem.objects.create(plan=plan, item="oil", interval_km=10000, interval_months=12)
    return plan


def recall_file(world, role):
    return {"file": SimpleUploadedFile("r.csv", f"VIN\n{new_vin()}\n".encode()), "code": f"MX{next(_codes)}",
            "title": "矩阵召回"}  # fmt: skip


class TestMaintenanceMultistore(MultistoreMatrix):
    builders = {V: build_vehicle, C: build_customer, RC: build_campaign, RV: build_recalled, SP: build_plan}
    namespaces = ["maintenance"]
    api_prefixes = [
        "/maintenance-due",
        "/recalls",
        "/recall-vehicles",
        "/vehicles/{vehicle_id}/maintenance",
        "/maintenance-plans",
    ]
    ops = [
        Op("maintenance:due_list", DUE, "view", record=False),
        Op("maintenance:renewal_list", V, "view", record=False),
        Op("maintenance:recall_list", RC, "view", record=False),
        Op("maintenance:recall_list", RC, "import", method="POST", record=False, data=recall_file, ok=302),
        Op("maintenance:recall_detail", RC, "view"),
        Op("maintenance:recall_notify", RC, "notify", method="POST", ok=302, fresh=True),
        Op("maintenance:recall_complete", RV, "change", method="POST", data={"reference": "矩阵"}, ok=302, fresh=True),
        Op("maintenance:customer_part", C, "view", also_needs=((DUE, "view"),)),
        Op("maintenance:plan_list", SP, "view", record=False),
        Op("maintenance:plan_override", SP, "add", method="POST", record=False, data={}, ok=302),
        Op("maintenance:plan_detail", SP, "view"),
        # allowed: past the checks, the item is saved (or refused with a message) and the page shown again
        Op(
            "maintenance:plan_detail",
            SP,
            "change",
            method="POST",
            data={"item": "service", "interval_km": "8000"},
            ok=302,
            fresh=True,
        ),
        Op("/maintenance-plans", SP, "view", api=True, record=False),
        Op("/maintenance-plans", SP, "add", api=True, method="POST", record=False, data={}, ok=201),
        Op(
            "/maintenance-plans/{pk}/items/service",
            SP,
            "change",
            api=True,
            method="PUT",
            data={"interval_km": 8000},
            fresh=True,
        ),
        Op("/maintenance-plans/{pk}/items/oil", SP, "change", api=True, method="DELETE", ok=204, fresh=True),
        Op("/vehicles/{pk}/maintenance", V, "view", api=True),
        Op("/maintenance-due", DUE, "view", api=True, record=False),
        Op("/recalls", RC, "view", api=True, record=False),
        Op("/recalls/{pk}/vehicles", RC, "view", api=True),
        Op("/recalls/{pk}/notify", RC, "notify", api=True, method="POST", data={}, fresh=True),
        Op(
            "/recall-vehicles/{pk}/complete",
            RV,
            "change",
            api=True,
            method="POST",
            data={"reference": "矩阵"},
            fresh=True,
        ),
    ]
    exempt = {
        "POST /api/v1/recalls": "a multipart upload (the matrix posts JSON); its 403 and 201 are in test_api_views",
        "PUT /api/v1/maintenance-plans/{plan_id}/items/{item}": "in ops with the item named (…/items/service)",
        "DELETE /api/v1/maintenance-plans/{plan_id}/items/{item}": "in ops with the item named (…/items/oil)",
    }
