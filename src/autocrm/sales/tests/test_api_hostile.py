import pytest
from django.test import Client

from autocrm.customers.tests.test_api import bearer

HUGE = "9" * 30


@pytest.mark.parametrize(
    "path",
    [f"/deals/{HUGE}", f"/deals?consultant={HUGE}", f"/test-drives?deal={HUGE}", f"/quotes?deal={HUGE}",
     f"/stock/{HUGE}", f"/stock?min_age={HUGE}", "/deals?stage=%00", "/deals?cursor=" + "x" * 600,
     f"/quotes/{HUGE}", f"/test-drives/{HUGE}", "/deals?limit=100000", f"/stock/{HUGE}/prospects"],
)  # fmt: skip
def test_no_500_on_hostile_queries(demo, path):
    r = Client().get("/api/v1" + path, **bearer("sales_manager_a"))
    assert r.status_code in (400, 404), (path, r.status_code, r.content[:300])


@pytest.mark.parametrize(
    ("path", "body"),
    [("/deals", {"lead": int(HUGE)}), ("/deals", {"customer": int(HUGE)}), ("/deals", {"stock_vehicle": -1}),
     ("/quotes", {"deal": int(HUGE), "vehicle_price": "1"}), ("/test-drives", {"deal": 1}),
     ("/stock", {"vin": "\u0000", "model_name": "x", "arrival_date": "x"}),
     ("/stock", {"vin": "LSJA24U62JG269225", "model_name": "x", "arrival_date": "2026-01-01", "series": int(HUGE)}),
     ("/deals", {"lead": 1, "series": int(HUGE)})],
)  # fmt: skip
def test_no_500_on_hostile_bodies(demo, path, body):
    r = Client().post("/api/v1" + path, body, content_type="application/json", **bearer("sales_manager_a"))
    assert r.status_code in (400, 404, 409), (path, r.status_code, r.content[:300])
