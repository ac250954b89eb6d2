from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("history/<str:object_type>/<str:object_id>/", views.history, name="history"),
]
