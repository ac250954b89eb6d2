from django.urls import path

from . import views

app_name = "partsforecast"
urlpatterns = [
    path("", views.forecast, name="forecast"),
    path("items/", views.mapping_set, name="mapping_set"),
    path("order/", views.order_from_forecast, name="order"),
]
