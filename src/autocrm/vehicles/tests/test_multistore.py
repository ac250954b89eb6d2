"""Vehicles in the inherited role × scope matrix (autocrm.core.testing): every page and API
operation, as every role, on a vehicle of the actor's own customer, of a colleague's customer,
of another store's, and a missing one. Odometer readings follow the vehicle's rule."""

from __future__ import annotations

import itertools

from autocrm.core.identifiers import vin_with_check_digit
from autocrm.core.testing import ACTOR_OF_ROLE, MultistoreMatrix, Op
from autocrm.customers.models import Customer
from autocrm.vehicles.models import Vehicle

V, C = "vehicles.vehicle", "customers.customer"
_serial = itertools.count(1)


def new_vin() -> str:
    return vin_with_check_digit(f"LSJA24U6JG{next(_serial):06d}")


def build_vehicle(store, owner):
    customer = Customer.objects.create(
        store=store, name="矩阵车主", consultant=owner, mobile=f"1370{next(_serial):07d}"
    )
    return Vehicle.objects.create(
        store=store, organization_id=store.organization_id, customer=customer, vin=new_vin(), plate="",
    )  # fmt: skip


def new_vehicle(world, role):
    """A new VIN for the role's own customer (a consultant's vehicles belong to their customers)."""
    owner = world.users[ACTOR_OF_ROLE[role]]
    customer = Customer.objects.create(store=world.stores["a"], name="矩阵车主", consultant=owner,
                                       mobile=f"1370{next(_serial):07d}")  # fmt: skip
    return {"vin": new_vin(), "customer": customer.pk}


class TestVehiclesMultistore(MultistoreMatrix):
    builders = {V: build_vehicle}
    namespaces = ["vehicles"]
    api_prefixes = ["/vehicles"]
    ops = [
        Op("vehicles:vehicle_list", V, "view", record=False),
        Op("vehicles:vehicle_create", V, "add", record=False),
        Op("vehicles:vehicle_detail", V, "view"),
        Op("vehicles:vehicle_edit", V, "change"),
        Op("vehicles:vehicle_readings", V, "view"),
        Op(
            "vehicles:reading_create",
            V,
            "change",
            method="POST",
            data={"km": 1000, "source": "reception"},
            ok=302,
            fresh=True,
        ),
        Op("vehicles:owner_search", V, "view", data={"q": "矩阵"}, also_needs=((C, "view"),)),
        # allowed: past the permission check, an empty form is refused with 400
        Op("vehicles:vehicle_transfer", V, "transfer", method="POST", ok=400),
        Op("/vehicles", V, "view", api=True, record=False),
        Op(
            "/vehicles",
            V,
            "add",
            api=True,
            record=False,
            method="POST",
            ok=201,
            data=new_vehicle,
        ),
        Op("/vehicles/{pk}", V, "view", api=True),
        Op("/vehicles/{pk}", V, "change", api=True, method="PATCH", data={"colour": "白"}),
        Op("/vehicles/{pk}/odometer-readings", V, "view", api=True),
        Op(
            "/vehicles/{pk}/odometer-readings",
            V,
            "change",
            api=True,
            method="POST",
            data={"km": 1000},
            ok=201,
            fresh=True,
        ),
    ]
    exempt = {
        "vehicles:catalogue_series": "the shared brand catalogue (unscoped), open to every signed-in user",
        "vehicles:catalogue_trims": "the shared brand catalogue (unscoped), open to every signed-in user",
        "POST /api/v1/vehicles/{vehicle_id}/transfer": "two records per call (vehicle, new owner); roles in test_api",
        "GET /api/v1/vehicles/{vehicle_id}/maintenance": "the maintenance app's: in maintenance/tests/test_multistore.py",
    }
