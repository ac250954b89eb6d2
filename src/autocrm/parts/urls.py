from django.urls import path

from . import views

app_name = "parts"
urlpatterns = [
    path("", views.part_list, name="part_list"),
    path("<int:pk>/", views.part_detail, name="part_detail"),
    path("<int:pk>/move/", views.part_move, name="part_move"),
    path("orders/", views.po_list, name="po_list"),
    path("orders/from-alerts/", views.po_from_alerts, name="po_from_alerts"),
    path("orders/<int:pk>/", views.po_detail, name="po_detail"),
    path("orders/<int:pk>/action/", views.po_action, name="po_action"),
]
