from django.urls import path

from . import views

app_name = "messaging"
urlpatterns = [
    path("", views.message_list, name="message_list"),
    path("m/<str:uid>/", views.message_detail, name="message_detail"),
    path("customers/<int:pk>/send/", views.message_send, name="message_send"),
    path("customers/<int:pk>/messages/", views.customer_messages_part, name="customer_messages_part"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/preview/", views.template_draft_preview, name="template_draft_preview"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/preview/", views.template_preview, name="template_preview"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
    path("settings/", views.channel_settings, name="channel_settings"),
    path("settings/accounts/new/", views.account_create, name="account_create"),
    path("settings/accounts/<int:pk>/", views.account_edit, name="account_edit"),
    path("settings/accounts/<int:pk>/test/", views.account_test, name="account_test"),
    path("settings/accounts/<int:pk>/callback-secret/", views.account_callback_secret, name="account_callback_secret"),
    path("settings/accounts/<int:pk>/deactivate/", views.account_deactivate, name="account_deactivate"),
    path("suppressions/", views.suppression_list, name="suppression_list"),
    path("suppressions/new/", views.suppression_create, name="suppression_create"),
    path("suppressions/<int:pk>/lift/", views.suppression_lift, name="suppression_lift"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/bell/", views.bell, name="bell"),
    path("inbox/read-all/", views.notification_read_all, name="notification_read_all"),
    path("inbox/preferences/", views.preferences, name="preferences"),
    path("inbox/<int:pk>/read/", views.notification_read, name="notification_read"),
]
