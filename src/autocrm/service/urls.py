from django.urls import path

from . import views, views_plans

app_name = "service"
urlpatterns = [
    path("appointments/", views.appointment_list, name="appointment_list"),
    path("appointments/book/", views.appointment_book, name="appointment_book"),
    path("appointments/<int:pk>/mark/", views.appointment_mark, name="appointment_mark"),
    path("", views.repair_order_list, name="repair_order_list"),
    path("receive/", views.repair_order_receive, name="repair_order_receive"),
    path("<int:pk>/", views.repair_order_detail, name="repair_order_detail"),
    path("<int:pk>/advance/", views.repair_order_advance, name="repair_order_advance"),
    path("<int:pk>/jobs/", views.job_add, name="job_add"),
    path("<int:pk>/parts/", views.part_add, name="part_add"),
    path("<int:pk>/canned/", views.canned_apply, name="canned_apply"),
    path("<int:pk>/estimate/", views.estimate_send, name="estimate_send"),
    path("<int:pk>/jobs/<int:job>/", views.job_progress, name="job_progress"),
    path("<int:pk>/photos/<int:photo>/", views.job_photo, name="job_photo"),
    path("bills/<int:pk>/", views.bill_detail, name="bill_detail"),
    path("bills/<int:pk>/pay/", views.bill_pay, name="bill_pay"),
    path("canned-jobs/", views.canned_job_list, name="canned_job_list"),
    path("customers/<int:pk>/service/", views.customer_service_part, name="customer_service_part"),
    # prepaid plans, accessories, insurer direct billing (ADR 0025)
    path("plans/", views_plans.plan_list, name="plan_list"),
    path("plans/new/", views_plans.plan_product_create, name="plan_product_create"),
    path("plans/vehicle/<int:pk>/", views_plans.vehicle_plans, name="vehicle_plans"),
    path("plans/vehicle/<int:pk>/sell/", views_plans.vehicle_plan_sell, name="vehicle_plan_sell"),
    path("plans/<int:pk>/cancel/", views_plans.vehicle_plan_cancel, name="vehicle_plan_cancel"),
    path("customers/<int:pk>/plans/", views_plans.customer_plans, name="customer_plans"),
    path("<int:pk>/extras/", views_plans.ro_extras, name="ro_extras"),
    path("<int:pk>/plans/apply/", views_plans.ro_plan_apply, name="ro_plan_apply"),
    path("<int:pk>/plans/remove/", views_plans.ro_plan_remove, name="ro_plan_remove"),
    path("<int:pk>/accessories/", views_plans.ro_accessory_sell, name="ro_accessory_sell"),
    path("<int:pk>/insurer-claim/", views_plans.ro_claim_set, name="ro_claim_set"),
    path("insurer-claims/", views_plans.claim_list, name="claim_list"),
    path("insurer-claims/<int:pk>/paid/", views_plans.claim_paid, name="claim_paid"),
    path("accessories/", views_plans.accessory_list, name="accessory_list"),
    path("accessories/new/", views_plans.accessory_create, name="accessory_create"),
    path("accessories/offers/", views_plans.offer_list, name="offer_list"),
]
