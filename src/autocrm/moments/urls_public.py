from django.urls import path

from . import views

app_name = "moments_public"
urlpatterns = [path("join/<str:token>/", views.club_join, name="club_join")]
