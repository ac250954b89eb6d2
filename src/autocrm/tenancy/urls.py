from django.urls import path

from . import views

app_name = "tenancy"
urlpatterns = [
    path("", views.store_list, name="store_list"),
    path("<int:pk>/modules/", views.store_modules, name="store_modules"),
]
