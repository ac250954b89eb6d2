from django.urls import path

from . import views

app_name = "moments"
urlpatterns = [
    path("", views.moment_log, name="moment_log"),
    path("settings/", views.moment_settings, name="moment_settings"),
    path("club/", views.event_list, name="event_list"),
    path("club/<int:pk>/", views.event_detail, name="event_detail"),
    path("club/<int:pk>/register/", views.event_register, name="event_register"),
    path("club/registrations/<int:pk>/check-in/", views.registration_check_in, name="registration_check_in"),
    path("club/registrations/<int:pk>/cancel/", views.registration_cancel, name="registration_cancel"),
]
