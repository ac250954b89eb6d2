from django.urls import path

from . import views

app_name = "sales"
urlpatterns = [
    path("", views.deal_list, name="deal_list"),
    path("<int:pk>/", views.deal_detail, name="deal_detail"),
    path("<int:pk>/advance/", views.deal_advance, name="deal_advance"),
    path("<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("<int:pk>/documents/<int:doc>/", views.document_download, name="document_download"),
    path("<int:pk>/test-drives/", views.test_drive_book, name="test_drive_book"),
    path("<int:pk>/quotes/", views.quote_create, name="quote_create"),
    path("<int:pk>/edit/", views.deal_update, name="deal_update"),
    path("<int:pk>/finance/", views.deal_finance, name="deal_finance"),
    path("<int:pk>/points/", views.deal_points, name="deal_points"),
    path("<int:pk>/cancel/", views.deal_cancel, name="deal_cancel"),
    path("<int:pk>/needs/", views.needs_save, name="needs_save"),
    path("<int:pk>/trade-ins/", views.trade_in_create, name="trade_in_create"),
    path("from-lead/<int:lead>/", views.deal_from_lead, name="deal_from_lead"),
    path("quotes/", views.quote_queue, name="quote_queue"),
    path("quotes/<int:pk>/decide/", views.quote_decide, name="quote_decide"),
    path("customers/<int:customer>/purchases/", views.customer_purchases, name="customer_purchases"),
    path("scripts/", views.script_list, name="script_list"),
    path("scripts/search/", views.script_search, name="script_search"),
    path("stock/", views.stock_list, name="stock_list"),
    path("stock/<int:pk>/prospects/", views.stock_prospects, name="stock_prospects"),
    path("stock/<int:pk>/prospects.csv", views.stock_export, name="stock_export"),
]
