from django.urls import path

from . import views_costs, views_kpis

app_name = "service_kpis"
urlpatterns = [
    path("kpis/", views_kpis.kpi_page, name="page"),
    path("kpis/data/", views_kpis.kpi_data, name="data"),
    path("kpis/costs/", views_costs.cost_basis, name="costs"),
]
