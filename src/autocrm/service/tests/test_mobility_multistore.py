"""Mobility in the inherited role × scope matrix (autocrm.core.testing): every page and API
operation, as every role, on a record of the actor's own, of a colleague's, of another store's,
and a missing one. Loaners have no owner (the store's fleet); bookings are the advisor's who
made them (store scope for the desk); errands and rescues are owned by their driver or crew,
who (as technicians) see only theirs."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from autocrm.core.identifiers import vin_with_check_digit
from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.customers.models import Customer
from autocrm.service.models import Errand, Loaner, LoanerBooking, Rescue
from autocrm.vehicles.models import Vehicle

L, LB, E, R, S = (
    "service.loaner",
    "service.loanerbooking",
    "service.errand",
    "service.rescue",
    "service.mobilitysettings",
)
_serial = itertools.count(1)


def _car(store):
    n = next(_serial)
    customer = Customer.objects.create(store=store, name="出行车主", mobile=f"1381{n:07d}")
    vehicle = Vehicle.objects.create(store=store, organization_id=store.organization_id, customer=customer,
                                     vin=vin_with_check_digit(f"LSVAU2A4{n + 800000:08d}"), plate="")  # fmt: skip
    return customer, vehicle


def build_loaner(store, owner):
    return Loaner.objects.create(store=store, plate=f"沪M{next(_serial):05d}", model_name="轩逸")


def build_booking(store, owner):
    customer, _vehicle = _car(store)
    day = timezone.localdate() + dt.timedelta(days=400 + next(_serial))
    return LoanerBooking.objects.create(store=store, loaner=build_loaner(store, owner), customer=customer, advisor=owner,
                                        starts_on=day, ends_on=day)  # fmt: skip


def build_errand(store, owner):
    customer, vehicle = _car(store)
    return Errand.objects.create(store=store, kind="pickup", customer=customer, vehicle=vehicle, driver=owner,
                                 status="assigned", pickup_address="家", dropoff_address="店",
                                 pickup_at=timezone.now() + dt.timedelta(hours=2))  # fmt: skip


def build_rescue(store, owner):
    return Rescue.objects.create(store=store, technician=owner, address="高架", dispatched_at=timezone.now())


def _store_a(world):
    return world.stores["a"]


def a_customer(world, role):
    customer, vehicle = _car(_store_a(world))
    return {"customer": customer.pk, "vehicle": vehicle.pk}


def new_loaner(world, role):
    return {"plate": f"沪N{next(_serial):05d}", "model_name": "朗逸"}


def new_booking(world, role):
    customer, _vehicle = _car(_store_a(world))
    day = timezone.localdate() + dt.timedelta(days=30 + next(_serial))
    return {"customer": customer.pk, "starts_on": day.isoformat()}


def new_errand(world, role):
    customer, vehicle = _car(_store_a(world))
    return {"customer": customer.pk, "vehicle": vehicle.pk, "kind": "inspection", "pickup_address": "家",
            "dropoff_address": "车管所", "pickup_at": (timezone.now() + dt.timedelta(hours=3)).isoformat()}  # fmt: skip


class TestMobilityMultistore(MultistoreMatrix):
    builders = {L: build_loaner, LB: build_booking, E: build_errand, R: build_rescue}
    namespaces = ["mobility"]
    api_prefixes = ["/loaners", "/loaner-bookings", "/errands", "/rescues"]
    ops = [
        Op("mobility:loaners", L, "view", record=False, also_needs=((LB, "view"),)),
        # allowed: past the checks, a loaner without plate is refused with a message
        Op("mobility:loaner_add", L, "add", method="POST", record=False, ok=302),
        # allowed: past the checks, a booking without days is refused with a message
        Op("mobility:booking_create", LB, "add", method="POST", record=False, ok=302, data=a_customer),
        Op("mobility:booking_detail", LB, "view"),
        Op("mobility:booking_handover", LB, "change", method="POST", ok=302),
        Op("mobility:booking_return", LB, "change", method="POST", ok=302),
        Op("mobility:booking_cancel", LB, "change", method="POST", ok=302, fresh=True),
        Op("mobility:booking_photo_add", LB, "change", method="POST", ok=302),
        Op("mobility:errands", E, "view", record=False),
        Op("mobility:errand_create", E, "add", method="POST", record=False, ok=302, data=a_customer),
        Op("mobility:errand_assign", E, "change", method="POST", ok=302),
        Op("mobility:errand_advance", E, "progress", method="POST", ok=302, fresh=True, data={"status": "en_route"}),
        Op("mobility:rescues", R, "view", record=False),
        Op("mobility:rescue_create", R, "add", method="POST", record=False, ok=302),
        Op("mobility:rescue_advance", R, "progress", method="POST", ok=302, fresh=True, data={"status": "arrived"}),
        Op("mobility:rescue_assign", R, "change", method="POST", ok=302),
        Op("mobility:settings", S, "change", method="POST", record=False, ok=302),
        Op("/loaners", L, "view", api=True, record=False),
        Op("/loaners", L, "add", api=True, record=False, method="POST", ok=201, data=new_loaner),
        Op("/loaners/availability", L, "view", api=True, record=False, also_needs=((LB, "view"),)),
        Op("/loaners/{pk}", L, "view", api=True),
        Op("/loaners/{pk}/status", L, "change", api=True, method="POST", fresh=True, data={"status": "maintenance"}),
        Op("/loaner-bookings", LB, "view", api=True, record=False),
        Op("/loaner-bookings", LB, "add", api=True, record=False, method="POST", ok=201, data=new_booking),
        Op("/loaner-bookings/{pk}", LB, "view", api=True),
        Op(
            "/loaner-bookings/{pk}/handover",
            LB,
            "change",
            api=True,
            method="POST",
            fresh=True,
            data={"level": 100, "odometer_km": 0},
        ),
        # allowed: past the checks, a loaner not handed over cannot be taken back
        Op(
            "/loaner-bookings/{pk}/return",
            LB,
            "change",
            api=True,
            method="POST",
            ok=409,
            data={"level": 100, "odometer_km": 0},
        ),
        Op("/loaner-bookings/{pk}/cancel", LB, "change", api=True, method="POST", fresh=True),
        Op("/errands", E, "view", api=True, record=False),
        Op("/errands", E, "add", api=True, record=False, method="POST", ok=201, data=new_errand),
        Op("/errands/{pk}", E, "view", api=True),
        # allowed: past the checks, an assignment without a driver is refused
        Op("/errands/{pk}/assign", E, "change", api=True, method="POST", ok=400, data={}),
        Op("/errands/{pk}/advance", E, "progress", api=True, method="POST", fresh=True, data={"status": "en_route"}),
        Op("/rescues", R, "view", api=True, record=False),
        Op("/rescues", R, "add", api=True, record=False, method="POST", ok=201, data={"address": "中环"}),
        Op("/rescues/{pk}", R, "view", api=True),
        # allowed: past the checks, an assignment without a crew member is refused
        Op("/rescues/{pk}/assign", R, "change", api=True, method="POST", ok=400, data={}),
        Op("/rescues/{pk}/advance", R, "progress", api=True, method="POST", fresh=True, data={"status": "arrived"}),
    ]
    exempt = {
        "mobility:home": "a redirect to the first mobility page the role may see (three tables); test_mobility_views",
        "mobility:booking_photo": "two records per call (booking, photo); test_mobility_views",
    }
