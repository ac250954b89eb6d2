from django.urls import path

from . import views

app_name = "maintenance"
urlpatterns = [
    path("due/", views.due_list, name="due_list"),
    path("recalls/", views.recall_list, name="recall_list"),
    path("recalls/<int:pk>/", views.recall_detail, name="recall_detail"),
    path("recalls/<int:pk>/notify/", views.recall_notify, name="recall_notify"),
    path("recall-vehicles/<int:pk>/complete/", views.recall_complete, name="recall_complete"),
    path("renewals/", views.renewal_list, name="renewal_list"),
    path("customers/<int:pk>/part/", views.customer_part, name="customer_part"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/override/", views.plan_override, name="plan_override"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
]
