from django.urls import path

from . import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="lead_list"),
    path("new/", views.lead_new, name="lead_create"),
    path("<int:pk>/", views.lead_detail, name="lead_detail"),
    path("<int:pk>/activities/", views.lead_activity, name="lead_activity"),
    path("<int:pk>/assign/", views.lead_assign, name="lead_assign"),
    path("<int:pk>/lost/", views.lead_lost, name="lead_lost"),
    path("<int:pk>/records/", views.record_add, name="record_add"),
    path("<int:pk>/records/<int:record>/", views.record_file, name="record_file"),
    path("lost-requests/<int:pk>/decide/", views.lost_decide, name="lost_decide"),
]

# the store's lead rules (views_settings: its own module, beside the lead pages)
from . import views_settings  # noqa: E402

urlpatterns += [
    path("settings/", views_settings.lead_rules, name="lead_rules"),
    path("settings/rescore/", views_settings.lead_rescore, name="lead_rescore"),
    path("settings/rescores/<int:pk>/", views_settings.rescore_progress, name="rescore_progress"),
]
