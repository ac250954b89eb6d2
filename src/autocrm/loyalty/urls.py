from django.urls import path

from . import views

app_name = "loyalty"

urlpatterns = [
    path("members/", views.member_list, name="member_list"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("members/<int:pk>/issue/", views.member_issue, name="member_issue"),
    path("members/<int:pk>/adjust/", views.member_adjust, name="member_adjust"),
    path("customers/<int:pk>/member/", views.customer_part, name="customer_part"),
    path("customers/<int:pk>/enrol/", views.customer_enrol, name="customer_enrol"),
    path("repair-orders/<int:pk>/bill/", views.bill_choose, name="bill_choose"),
    path("coupons/", views.coupon_list, name="coupon_list"),
    path("coupons/redeem/", views.coupon_redeem, name="coupon_redeem"),
    path("coupon-types/add/", views.coupon_type_add, name="coupon_type_add"),
    path("programme/", views.programme, name="programme"),
]
