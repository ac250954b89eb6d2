"""URLs of the duplicate review queue; mounted at ``duplicates/`` by the project's urls.py."""

from django.urls import path

from . import views_duplicates as views

app_name = "duplicates"
urlpatterns = [
    path("", views.duplicate_list, name="duplicate_list"),
    path("find/", views.duplicate_find, name="duplicate_find"),
    path("<int:pk>/", views.duplicate_compare, name="duplicate_compare"),
    path("<int:pk>/dismiss/", views.duplicate_dismiss, name="duplicate_dismiss"),
    path("merges/<int:pk>/", views.merge_detail, name="merge_detail"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
]
