"""The public lead form (no login): ``/l/<organization code>/<store code>/``."""

from django.urls import path

from .views_public import lead_form

app_name = "leadform"
urlpatterns = [path("<slug:org>/<slug:store_code>/", lead_form, name="lead_form")]
