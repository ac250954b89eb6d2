from django.urls import path

from . import views

app_name = "care"
urlpatterns = [
    path("follow-ups/", views.followup_list, name="followup_list"),
    path("follow-ups/<int:pk>/", views.followup_detail, name="followup_detail"),
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/new/", views.complaint_create, name="complaint_create"),
    path("complaints/report/", views.complaint_report, name="complaint_report"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/advance/", views.complaint_advance, name="complaint_advance"),
    path("complaints/<int:pk>/escalate/", views.complaint_escalate, name="complaint_escalate"),
    path("customers/<int:pk>/care/", views.customer_part, name="customer_part"),
    path("surveys/", views.survey_list, name="survey_list"),
    path("surveys/<int:pk>/review/", views.survey_review, name="survey_review"),
    path("win-backs/", views.winback_list, name="winback_list"),
    path("win-backs/<int:pk>/review/", views.winback_review, name="winback_review"),
    path("settings/", views.care_settings, name="settings"),
]
