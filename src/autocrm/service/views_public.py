"""The owner's estimate link (no login): the estimate to approve or decline line by line, then
the progress job by job with the photos of the replaced parts. The signed link is the
permission; an expired, replaced or used link gives a clear page and changes nothing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from autocrm.core import uploads
from autocrm.core.errors import NotFound, ValidationError
from autocrm.core.forms import error_text

from . import inspection, services
from .choices import Approval, RoStatus
from .models import EstimateLink, InspectionPhoto, JobPhoto, PartLine


def _invalid(request: HttpRequest, exc: services.LinkInvalid) -> HttpResponse:
    return render(request, "service/public/link_invalid.html", {"reason": exc.reason, "message": exc.message},
                  status=410 if exc.reason in ("expired", "used") else 404)  # fmt: skip


def _context(link: EstimateLink, token: str) -> dict[str, Any]:
    ro = link.repair_order
    jobs = list(ro.jobs.order_by("id").prefetch_related("photos"))  # scoped: the signed link names this order
    parts = list(PartLine.objects.filter(repair_order=ro).order_by("id"))  # scoped: the signed link names this order
    return {"ro": ro, "jobs": jobs, "parts": parts, "token": token, "answered": link.used_at is not None,
            "pending": any(j.approval == Approval.PENDING for j in jobs)
            or any(p.approval == Approval.PENDING for p in parts),
            "status_label": RoStatus(ro.status).label, "expires_at": link.expires_at,
            "findings": inspection.findings(inspection.items_of(inspection.inspection_of(ro)))}  # fmt: skip


@require_http_methods(["GET", "POST"])
def estimate(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        answers = {k: v for k, v in request.POST.items() if k.startswith(("job:", "part:"))}
        try:
            services.estimate_answer(token=token, answers=answers)
        except services.LinkInvalid as exc:
            return _invalid(request, exc)
        except ValidationError as exc:
            link = services.estimate_link_open(token, for_answer=False)
            return render(request, "service/public/estimate.html",
                          {**_context(link, token), "error": error_text(exc)}, status=400)  # fmt: skip
        return redirect(reverse("service_public:estimate", args=[token]))
    try:
        link = services.estimate_link_open(token, for_answer=False)
    except services.LinkInvalid as exc:
        return _invalid(request, exc)
    return render(request, "service/public/estimate.html", _context(link, token))


@require_GET
def estimate_photo(request: HttpRequest, token: str, photo: int) -> HttpResponseBase:
    try:
        link = services.estimate_link_open(token, for_answer=False)
    except services.LinkInvalid as exc:
        return _invalid(request, exc)
    row = JobPhoto.objects.filter(pk=photo, job__repair_order_id=link.repair_order_id).first()  # scoped: signed link
    if row is None:
        raise NotFound()
    return uploads.response(row.path, content_type=row.content_type, name=row.name)


@require_GET
def inspection_photo(request: HttpRequest, token: str, photo: int) -> HttpResponseBase:
    """A photo of the inspection of the link's repair order (and of no other)."""
    try:
        link = services.estimate_link_open(token, for_answer=False)
    except services.LinkInvalid as exc:
        return _invalid(request, exc)
    row = InspectionPhoto.objects.filter(  # scoped: the signed link names this order
        pk=photo, item__inspection__repair_order_id=link.repair_order_id
    ).first()
    if row is None:
        raise NotFound()
    return uploads.response(row.path, content_type=row.content_type, name=row.name)
