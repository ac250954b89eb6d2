from django.urls import path

from . import views_quality

app_name = "quality"
urlpatterns = [
    path("", views_quality.quality_overview, name="quality_overview"),
    path("<slug:problem>/", views_quality.quality_problem, name="quality_problem"),
]
