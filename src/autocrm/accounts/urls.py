from django.urls import path

from . import views, views_password

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_totp_view, name="login_totp"),
    path("logout/", views.logout_view, name="logout"),
    path("security/", views.security_view, name="security"),
    path("password/", views_password.password_change_view, name="password_change"),
    path("store/", views.switch_store_view, name="switch_store"),
]
