from django.urls import path
from django.views.generic import RedirectView

from . import views_admin

app_name = "accounts_admin"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts_admin:user_list"), name="index"),
    path("users/", views_admin.user_list, name="user_list"),
    path("users/new/", views_admin.user_create, name="user_create"),
    path("users/<int:pk>/", views_admin.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/", views_admin.membership_set, name="membership_set"),
    path(
        "users/<int:pk>/roles/<int:membership_id>/remove/",
        views_admin.membership_deactivate,
        name="membership_deactivate",
    ),
    path("users/<int:pk>/active/", views_admin.user_active, name="user_active"),
    path("users/<int:pk>/password/", views_admin.user_password, name="user_password"),
    path("tokens/", views_admin.token_list, name="token_list"),
    path("tokens/<int:token_id>/revoke/", views_admin.token_revoke, name="token_revoke"),
]
