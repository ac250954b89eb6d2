from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("new/", views.customer_create, name="customer_create"),
    path("<int:pk>/", views.customer_detail, name="customer_detail"),
    path("<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:pk>/timeline/", views.customer_timeline, name="customer_timeline"),
    # The 360 page's parts loaded after its first paint (htmx; a page of their own without JS).
    path("<int:pk>/consent/grid/", views.customer_consent_part, name="customer_consent_part"),
    path("<int:pk>/insights/", views.customer_insights_part, name="customer_insights_part"),
    path("<int:pk>/reveal/", views.customer_reveal, name="customer_reveal"),
    path("<int:pk>/tags/", views.customer_tags, name="customer_tags"),
    path("<int:pk>/consent/", views.customer_consent, name="customer_consent"),
]
