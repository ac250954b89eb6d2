"""/api/v1/customers/quality: the data-quality report per store in the actor's scope.
Mounted on the customers router (see the end of customers/api.py)."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import PermissionDenied

from .models import Customer
from .quality import quality_report

router = Router(tags=["customers"])


class ProblemOut(Schema):
    key: str
    group: str
    label: str
    count: int


class StoreQualityOut(Schema):
    store: int
    store_name: str
    customers: int
    invalid: int
    missing_three_elements: int
    probable_duplicates: int
    three_element_rate: float
    completeness_rate: float
    invalid_vehicles: dict[str, int]
    problems: list[ProblemOut]


class QualityOut(Schema):
    stores: list[StoreQualityOut]


@router.get("/quality", response=QualityOut)
def customer_quality(request: ActorRequest, refresh: bool = False) -> dict[str, Any]:
    """Per store: invalid identifiers (mobile, ID number, VIN, plate), missing data (the
    three-element check 姓名+电话+地址 and other key fields), probable duplicates waiting for
    review, the three-element rate and the completeness rate. Counts are of customers; each
    problem is listed at ``/quality/<key>/`` in the UI for fixing. Figures are kept for a minute
    per scope; ``refresh=true`` recomputes them."""
    from autocrm.core.permissions import scope_for

    if scope_for(request.actor, Customer, "view") is None:
        raise PermissionDenied()
    stores = []
    for sq in quality_report(actor=request.actor, refresh=refresh):
        stores.append(
            {
                "store": sq.store_id,
                "store_name": sq.store_name,
                "customers": sq.customers,
                "invalid": sq.invalid,
                "missing_three_elements": sq.counts.get("three_elements", 0),
                "probable_duplicates": sq.counts.get("duplicates", 0),
                "three_element_rate": round(sq.three_element_rate, 4),
                "completeness_rate": round(sq.completeness_rate, 4),
                "invalid_vehicles": sq.related,  # the contract's name; today only vehicles register checks
                "problems": [{"key": p.key, "group": p.group, "label": str(p.label), "count": n} for p, n in sq.rows()],
            }
        )
    return {"stores": stores}
