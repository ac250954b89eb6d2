"""The floor of the HTTP benchmark (``benchmarks/http_load.py``): the least a request of this
project can cost — the whole middleware stack, then one customer row read by primary key and
returned as JSON, with no authentication, actor, scope or serializer.

Mounted at ``/_bench/floor/<pk>`` only when ``AUTOCRM_BENCH_FLOOR`` is set (see
``autocrm.config.urls.bench_urlpatterns``); never set it in a real deployment. Even then it
answers only clients on the loopback interface, and returns no personal data.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse

from .models import Customer

LOOPBACK = frozenset({"127.0.0.1", "::1"})


def floor(request: HttpRequest, pk: int) -> JsonResponse:
    if request.META.get("REMOTE_ADDR") not in LOOPBACK:
        raise Http404()
    # scoped: benchmark floor, loopback only, mounted only with AUTOCRM_BENCH_FLOOR; no personal data
    row = Customer.objects.filter(pk=pk).values("id", "store_id", "kind", "updated_at").first()
    if row is None:
        raise Http404()
    return JsonResponse(row)
