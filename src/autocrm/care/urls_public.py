from django.urls import path

from . import views_public

app_name = "care_public"
urlpatterns = [
    path("w/<str:token>/", views_public.winback, name="winback"),
    path("<str:token>/", views_public.survey, name="survey"),
]
