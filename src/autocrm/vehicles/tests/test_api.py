from django.test import Client

from autocrm.customers.tests.test_api import bearer, create


def test_vehicle_register_search_and_conflict(demo):
    api = Client()
    cid = create(api, "advisor_a1", mobile="13812345678").json()["id"]
    h = bearer("advisor_a1")
    r = api.post("/api/v1/vehicles", {"vin": "LSJA24U62JG269225", "plate": "沪A D12345", "customer": cid},
                 content_type="application/json", **h)  # fmt: skip
    assert r.status_code == 201, r.content
    vid = r.json()["id"]
    assert r.json()["plate"] == "沪AD12345" and r.json()["customer"] == cid
    for q in ("沪AD12345", "LSJA24U62JG269225", "269225", "12345"):
        assert [v["id"] for v in api.get("/api/v1/vehicles", {"q": q}, **h).json()["items"]] == [vid], q
    # the customer search finds the owner by plate too
    assert [c["id"] for c in api.get("/api/v1/customers", {"q": "沪AD12345"}, **h).json()["items"]] == [cid]
    bad = api.post("/api/v1/vehicles", {"vin": "LSJA24U62JG269226"}, content_type="application/json", **h)
    assert bad.status_code == 400 and "vin" in bad.json()["fields"]
    dup = api.post("/api/v1/vehicles", {"vin": "LSJA24U62JG269225"}, content_type="application/json", **h)
    assert dup.status_code == 409
    r = api.post(f"/api/v1/vehicles/{vid}/odometer-readings", {"km": 100}, content_type="application/json", **h)
    assert r.status_code == 201
    r = api.post(f"/api/v1/vehicles/{vid}/odometer-readings", {"km": 50}, content_type="application/json", **h)
    assert r.status_code == 400 and "correction_reason" in r.json()["fields"]
    assert api.get(f"/api/v1/vehicles/{vid}", **bearer("advisor_b1")).status_code == 404
