from django.urls import path

from . import views

app_name = "vehicles"
urlpatterns = [
    path("", views.vehicle_list, name="vehicle_list"),
    path("new/", views.vehicle_create, name="vehicle_create"),
    path("<int:pk>/", views.vehicle_detail, name="vehicle_detail"),
    path("<int:pk>/edit/", views.vehicle_edit, name="vehicle_edit"),
    path("<int:pk>/readings/", views.vehicle_readings, name="vehicle_readings"),
    path("<int:pk>/readings/new/", views.reading_create, name="reading_create"),
    path("<int:pk>/owner-search/", views.owner_search, name="owner_search"),
    path("<int:pk>/transfer/", views.vehicle_transfer, name="vehicle_transfer"),
    path("catalogue/series/", views.catalogue_series, name="catalogue_series"),
    path("catalogue/trims/", views.catalogue_trims, name="catalogue_trims"),
]
