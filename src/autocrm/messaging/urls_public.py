"""The public short links in messages: ``/s/<code>`` (no login: customers click them)."""

from django.urls import path

from .views_public import shortlink_redirect

app_name = "shortlinks"
urlpatterns = [path("<str:code>", shortlink_redirect, name="shortlink")]
