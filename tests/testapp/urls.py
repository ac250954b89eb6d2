from django.urls import path

from autocrm.config.urls import handler403, handler404, handler500  # noqa: F401
from autocrm.config.urls import urlpatterns as base

from . import views

urlpatterns = [
    *base,
    path("testapp/tickets/", views.ticket_list, name="testapp_ticket_list"),
    path("testapp/tickets/<int:pk>/", views.ticket_detail, name="testapp_ticket_detail"),
    path("testapp/tickets/<int:pk>/reveal/", views.ticket_reveal, name="testapp_ticket_reveal"),
]
