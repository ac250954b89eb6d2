from django.urls import path

from . import views

app_name = "voc"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("data/", views.data, name="data"),
]
