"""Mobility pages under /service/mobility/ (namespace ``mobility``, ADR 0023)."""

from django.urls import path

from . import views_mobility as views

app_name = "mobility"
urlpatterns = [
    path("", views.mobility_home, name="home"),
    path("loaners/", views.loaners, name="loaners"),
    path("loaners/add/", views.loaner_add, name="loaner_add"),
    path("bookings/add/", views.booking_create, name="booking_create"),
    path("bookings/<int:pk>/", views.booking_detail, name="booking_detail"),
    path("bookings/<int:pk>/handover/", views.booking_handover, name="booking_handover"),
    path("bookings/<int:pk>/return/", views.booking_return, name="booking_return"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<int:pk>/photos/", views.booking_photo_add, name="booking_photo_add"),
    path("bookings/<int:pk>/photos/<int:photo>/", views.booking_photo, name="booking_photo"),
    path("errands/", views.errands, name="errands"),
    path("errands/add/", views.errand_create, name="errand_create"),
    path("errands/<int:pk>/assign/", views.errand_assign, name="errand_assign"),
    path("errands/<int:pk>/advance/", views.errand_advance, name="errand_advance"),
    path("rescues/", views.rescues, name="rescues"),
    path("rescues/add/", views.rescue_create, name="rescue_create"),
    path("rescues/<int:pk>/advance/", views.rescue_advance, name="rescue_advance"),
    path("rescues/<int:pk>/assign/", views.rescue_assign, name="rescue_assign"),
    path("settings/", views.settings_change, name="settings"),
]
