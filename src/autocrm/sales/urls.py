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
    path("stock/", views.stock_list, name="stock_list"),
    path("stock/<int:pk>/prospects/", views.stock_prospects, name="stock_prospects"),
    path("stock/<int:pk>/prospects.csv", views.stock_export, name="stock_export"),
]
