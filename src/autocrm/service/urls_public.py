from django.urls import path

from . import views_public

app_name = "service_public"
urlpatterns = [
    path("<str:token>/", views_public.estimate, name="estimate"),
    path("<str:token>/photos/<int:photo>/", views_public.estimate_photo, name="estimate_photo"),
    path("<str:token>/inspection/<int:photo>/", views_public.inspection_photo, name="inspection_photo"),
]
