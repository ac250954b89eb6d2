from django.urls import path

from . import views, views_inspection

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
    path("<int:pk>/inspection/", views_inspection.inspection_page, name="inspection"),
    path("<int:pk>/inspection/start/", views_inspection.inspection_start, name="inspection_start"),
    path("<int:pk>/inspection/items/<int:item>/", views_inspection.inspection_item_save, name="inspection_item_save"),
    path(
        "<int:pk>/inspection/items/<int:item>/recommend/",
        views_inspection.inspection_recommend,
        name="inspection_recommend",
    ),
    path("<int:pk>/inspection/photos/<int:photo>/", views_inspection.inspection_photo, name="inspection_photo"),
    path("<int:pk>/inspection/part/", views_inspection.inspection_part, name="inspection_part"),
    path("pick/", views_inspection.pick, name="pick"),
]
