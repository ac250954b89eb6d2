from django.conf import settings
from django.urls import URLPattern, include, path
from django.views.i18n import JavaScriptCatalog

from autocrm.core import views as core_views

from .api import api

# Pages get the house error pages; anything under /api/ gets the API's JSON error shape.
handler400 = "autocrm.core.views.bad_request"
handler403 = "autocrm.core.views.permission_denied"
handler404 = "autocrm.core.views.page_not_found"
handler500 = "autocrm.core.views.server_error"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("s/", include("autocrm.messaging.urls_public")),  # tracked short links in messages (public)
    path("l/", include("autocrm.leads.urls_public")),  # the public lead form of a store (no login)
    path("e/", include("autocrm.service.urls_public")),
    path("q/", include("autocrm.care.urls_public")),  # the owner's survey link (signed, no login)
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("autocrm.accounts.urls")),
    path("admin/stores/", include("autocrm.tenancy.urls")),
    path("admin/", include("autocrm.accounts.urls_admin")),
    path("audit/", include("autocrm.audit.urls")),
    path("customers/", include("autocrm.customers.urls")),
    path("vehicles/", include("autocrm.vehicles.urls")),
    path("leads/", include("autocrm.leads.urls")),
    path("deals/", include("autocrm.sales.urls")),
    path("sales/", include("autocrm.sales.urls_kpis")),  # the sales KPIs
    path("maintenance/", include("autocrm.maintenance.urls")),
    path("service/", include("autocrm.service.urls")),
    path("service/", include("autocrm.service.urls_kpis")),  # the service KPIs
    path("parts/forecast/", include("autocrm.partsforecast.urls")),
    path("voc/", include("autocrm.voc.urls")),
    path("parts/", include("autocrm.parts.urls")),
    path("quality/", include("autocrm.customers.urls_quality")),
    path("imports/", include("autocrm.imports.urls")),
    path("duplicates/", include("autocrm.customers.urls_duplicates")),
    path("messaging/", include("autocrm.messaging.urls")),
    path("service/mobility/", include("autocrm.service.urls_mobility")),  # loaners, errands, rescue (ADR 0023)
    path("moments/", include("autocrm.moments.urls")),  # care moments and the car club (ADR 0036)
    path("club/", include("autocrm.moments.urls_public")),  # the signed sign-up link, no login
    path("care/", include("autocrm.care.urls")),
    path("loyalty/", include("autocrm.loyalty.urls")),  # members, points, coupons, the programme (ADR 0034)
    path("api/v1/", api.urls),
    path("home/panels/<slug:key>/", core_views.home_panel, name="home_panel"),  # a home panel after the first paint
]


def bench_urlpatterns() -> list[URLPattern]:
    """The HTTP benchmark's floor view, only when ``AUTOCRM_BENCH_FLOOR`` is set (never in a real
    deployment): see ``autocrm.customers.views_bench``."""
    if not getattr(settings, "AUTOCRM_BENCH_FLOOR", False):
        return []
    from autocrm.customers.views_bench import floor

    return [path("_bench/floor/<int:pk>", floor, name="bench_floor")]


urlpatterns += bench_urlpatterns()
