"""What the after-sales matrix (test_multistore) leaves to the plans matrix and tests (ADR 0025)."""

TWO_RECORDS = "two records per call (a repair order and a plan, accessory or claim); test_views_plans / test_api_plans"
PLANS_EXEMPT = {
    **{f"service:{name}": "in TestPlansMultistore (test_multistore_plans)" for name in (
        "plan_list", "vehicle_plan_cancel", "ro_extras", "claim_list", "claim_paid", "accessory_list")},
    **{f"service:{name}": TWO_RECORDS for name in (
        "plan_product_create", "vehicle_plans", "vehicle_plan_sell", "customer_plans", "ro_plan_apply",
        "ro_plan_remove", "ro_accessory_sell", "ro_claim_set", "accessory_create", "offer_list")},
    "POST /api/v1/repair-orders/{ro_id}/plans": TWO_RECORDS,
    "POST /api/v1/repair-orders/{ro_id}/plans/{plan_id}/remove": TWO_RECORDS,
    "PUT /api/v1/repair-orders/{ro_id}/insurer-claim": TWO_RECORDS,
    "POST /api/v1/repair-orders/{ro_id}/accessories": TWO_RECORDS,
}  # fmt: skip
