"""What vehicles adds to the customers app through its registries, so that ``customers`` names no
vehicle model, relation or field (registered from ``VehiclesConfig.ready``):

* search keys: a customer is found by a vehicle's full plate or VIN, the last six of its VIN, its
  plate typed without the province character (``A12345`` for 沪A12345, any case and spacing),
  or the last digits of its plate (``12345``);
* data-quality checks: vehicles with an invalid VIN or plate, without a VIN (known by the plate
  only), or with a plate another vehicle of the store carries — counted in vehicles, listed by
  owner;
* duplicate evidence: two customers with the same plate or VIN are likely one person;
* timeline kinds: what the 360 timeline calls the touches vehicles writes.

Every condition on customers is an ``Exists`` over the vehicles of the same store correlated on
the customer, so the (store, plate/VIN) indexes serve it and no DISTINCT is needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from autocrm.core import identifiers
from autocrm.core.actor import Actor
from autocrm.core.identifiers import _PLATE_PATTERNS
from autocrm.core.permissions import scope_for
from autocrm.customers import dedup, quality, search

from .models import Vehicle
from .selectors import _ends_with

VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"
PLATE_PATTERN = "|".join(f"({pattern.pattern})" for pattern, _kind in _PLATE_PATTERNS)
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_VIN_TAIL = re.compile(r"[A-HJ-NPR-Z0-9]{6}")
# A plate without its province character: the issuing-authority letter, then 5 (regular) or 6
# (new-energy) letters and digits — ``A12345``, ``AD12345``.
_PLATE_NO_PROVINCE = re.compile(r"[A-HJ-NP-Z][A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳]|[A-HJ-NP-Z][A-HJ-NP-Z0-9]{6}")
_PLATE_DIGITS = re.compile(r"\d{5,6}")


def _owners(vehicles: QuerySet[Vehicle]) -> Q:
    """Customers owning one of ``vehicles``, in the customer's own store."""
    return Q(Exists(vehicles.filter(customer_id=OuterRef("pk"), store_id=OuterRef("store_id"))))


def _compact(query: str) -> str:
    q = identifiers.clean_plate(query)
    return q if any(ch.isdigit() for ch in q) else ""  # letters only are a name in pinyin


def vehicles_matching(query: str) -> QuerySet[Vehicle] | None:
    """The vehicles the search box's text designates, or None when it has none of their shapes:
    a full VIN or plate exactly; six VIN characters → the VIN's last six (and the plate's end,
    ``123456`` being both); a plate without its province (``A12345``, ``AD12345``) or its last
    five or six digits → the plate's end. One queryset, so several shapes are one index scan each
    under one semi-join instead of ORed subqueries (which would read every customer of the store)."""
    q = _compact(query)
    if not q:
        return None
    if _VIN.fullmatch(q):
        return Vehicle.objects.filter(vin=q)
    if identifiers.plate_kind(q):
        return Vehicle.objects.filter(plate=q)
    fields = []
    if _VIN_TAIL.fullmatch(q):
        fields.append("vin")
    if _PLATE_NO_PROVINCE.fullmatch(q) or _PLATE_DIGITS.fullmatch(q):
        fields.append("plate")
    return _ends_with(Vehicle.objects.all(), q, tuple(fields)) if fields else None


def match_customers(query: str) -> Q | None:
    vehicles = vehicles_matching(query)
    return _owners(vehicles) if vehicles is not None else None


# --- data quality ---------------------------------------------------------------------------------


def _invalid(key: str) -> Q:
    if key == "invalid_vin":
        return ~Q(vin="") & ~Q(vin__regex=VIN_PATTERN)  # an empty VIN is missing, not invalid
    if key == "missing_vin":
        return Q(vin="")
    if key == "shared_plate":
        # Two vehicles of the store with one plate: a plate moved without being cleared on the
        # old car, or a typo. Not refused (plates move between cars), listed here to settle.
        others = Vehicle.objects.filter(store_id=OuterRef("store_id"), plate=OuterRef("plate")).exclude(
            pk=OuterRef("pk")
        )
        return ~Q(plate="") & Q(Exists(others))
    return ~Q(plate="") & ~Q(plate__regex=PLATE_PATTERN)


QUALITY_KEYS = ("invalid_vin", "invalid_plate", "missing_vin", "shared_plate")


def quality_customers_q(key: str) -> Q:
    return Q(Exists(Vehicle.objects.filter(customer_id=OuterRef("pk")).filter(_invalid(key))))


def quality_counts(actor: Actor) -> dict[int, dict[str, int]] | None:
    """Invalid VINs/plates per store in one scan of the vehicles, counted in vehicles (the
    problem's list shows their owners). None when the actor may not see vehicles."""
    if scope_for(actor, Vehicle, "view") is None:
        return None
    # No DISTINCT owners: it would sort the store's vehicles once per problem. A merge moves
    # vehicles to the survivor, so no join to the customers is needed.
    aggregates: dict[str, Any] = {f"{key}_n": Count("id", filter=_invalid(key)) for key in QUALITY_KEYS}
    rows = Vehicle.objects.for_actor(actor, "view").order_by().values("store_id").annotate(**aggregates)
    return {row["store_id"]: {key: row[f"{key}_n"] for key in QUALITY_KEYS} for row in rows}


# --- duplicate evidence ---------------------------------------------------------------------------


def dedup_keys(store_id: int) -> Iterable[tuple[int, str, str]]:
    """``(customer id, evidence code, normalised key)`` for the store's owned vehicles."""
    rows = Vehicle.objects.filter(store_id=store_id, customer__isnull=False).values_list("customer_id", "plate", "vin")
    for cid, plate, vin in rows.iterator(chunk_size=5000):
        if plate and (key := identifiers.clean_plate(plate)):  # 川a·b724e, 川A B724E → 川AB724E
            yield cid, "same_plate", key
        if vin and (key := "".join(vin.split()).upper()):
            yield cid, "same_vin", key


def register() -> None:
    # One key for all of a vehicle's shapes (plate, VIN, VIN last six, plate tail): see vehicles_matching.
    search.register_search_key("vehicles", match_customers, label=_("plate, VIN or their last characters"), order=10)
    quality.register_related_check(
        "vehicles",
        problems=(
            quality.Problem("invalid_vin", "invalid", _("Vehicle with an invalid VIN")),
            quality.Problem("invalid_plate", "invalid", _("Vehicle with an invalid plate")),
            quality.Problem("missing_vin", "missing", _("Vehicle without a VIN (plate only)")),
            quality.Problem("shared_plate", "duplicates", _("Vehicle whose plate another vehicle of the store has")),
        ),
        customers_q=quality_customers_q,
        counts=quality_counts,
        order=10,
    )
    dedup.register_evidence("same_vin", weight=6.0, label=_("Same vehicle (VIN)"), order=10)
    # A plate is not secret (it is on the car): the reason keeps it, so the queue shows which.
    dedup.register_evidence("same_plate", weight=4.0, label=_("Same plate"), order=20, show_value=True)
    dedup.register_evidence_source("vehicles", dedup_keys)
