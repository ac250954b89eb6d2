"""Insurer direct billing (直赔) of accident repairs (ADR 0025).

A repair order carries an :class:`~autocrm.service.models.InsuranceClaim`: the insurer, the
claim number and the insurer's share — an ``amount`` in yuan or a ``percent`` of the bill. When
the bill is made (:func:`claim_split`, called from ``bill_make``) the shares are frozen:

- percent: insurer = total × percent ÷ 100, rounded half up to the fen;
- amount: insurer = the amount, capped at the total;
- the owner pays the rest (the deductible, 免赔), so insurer + owner = total exactly.

The insurer's receivable is pending until :func:`claim_mark_paid`; :func:`open_claims` lists
what insurers still owe the store."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, inputs
from autocrm.core.actor import Actor
from autocrm.core.errors import Conflict
from autocrm.core.permissions import Scope, get_in_scope, register, require, require_model
from autocrm.core.roles import Role

from .choices import BillStatus, RoStatus
from .choices_plans import ClaimStatus, ShareKind
from .models import Bill, InsuranceClaim, RepairOrder

FEN = Decimal("0.01")
HUNDRED = Decimal("100")

register(
    "service.insuranceclaim",
    {
        Role.ADVISOR: ("view add change", Scope.STORE),
        Role.FINANCE: ("view pay export", Scope.STORE),
        Role.SERVICE_MANAGER: ("view add change pay export", Scope.STORE),
        Role.MANAGER: ("view add change pay export", Scope.STORE),
        Role.DIRECTOR: ("view", Scope.ORGANIZATION),
    },
    resource="service",
)


def split(total: Decimal, kind: str, value: Decimal) -> tuple[Decimal, Decimal]:
    """(insurer's share, owner's share) of ``total``, each to the fen, summing to ``total``."""
    total = Decimal(total).quantize(FEN)
    if kind == ShareKind.PERCENT:
        insurer = (total * Decimal(value) / HUNDRED).quantize(FEN, rounding=ROUND_HALF_UP)
    else:
        insurer = Decimal(value).quantize(FEN)
    insurer = max(min(insurer, total), Decimal("0.00"))
    return insurer, total - insurer


@transaction.atomic
def claim_set(*, actor: Actor, repair_order: RepairOrder, data: Mapping[str, Any]) -> InsuranceClaim:
    """Put (or change) the insurer's direct billing on a repair order: ``insurer``,
    ``claim_number``, ``share_kind`` (amount or percent) and ``share_value`` (yuan; or 0–100 %).
    Not after the bill is paid (409). A bill made already is split again at once."""
    ro = RepairOrder.objects.select_for_update(of=("self",)).get(pk=repair_order.pk)
    require(actor, "change", ro)
    errors = inputs.Errors()
    insurer = inputs.text(errors, data, "insurer", 60, required=True)
    claim_number = inputs.text(errors, data, "claim_number", 40, required=True)
    kind = inputs.choice(errors, data, "share_kind", ShareKind)
    high = HUNDRED if kind == ShareKind.PERCENT else Decimal("99999999.99")
    value = inputs.decimal(errors, data, "share_value", high=high)
    errors.raise_if_any()
    assert value is not None
    bill = Bill.objects.select_for_update().filter(repair_order=ro).first()
    existing = InsuranceClaim.objects.select_for_update().filter(repair_order=ro).first()
    if (bill is not None and bill.status == BillStatus.PAID) or ro.status == RoStatus.DELIVERED:
        raise Conflict(_("The bill is paid: the insurer's share can no longer change."),
                       fields={"status": [_("The bill is paid: the insurer's share can no longer change.")]})  # fmt: skip
    if existing is not None and existing.status == ClaimStatus.PAID:
        raise Conflict(
            _("The insurer has paid this claim."), fields={"status": [_("The insurer has paid this claim.")]}
        )
    claim = existing or InsuranceClaim(store_id=ro.store_id, repair_order=ro)
    claim.insurer, claim.claim_number, claim.share_kind, claim.share_value = insurer, claim_number, kind, value
    claim.save()
    if bill is not None:
        claim_split(bill, claim=claim)
    audit.record("insurance_claim.set", obj=claim, actor=actor,
                 extra={"share_kind": kind, "share_value": str(value)})  # fmt: skip
    return claim


def claim_split(bill: Bill, *, claim: InsuranceClaim | None = None) -> InsuranceClaim | None:
    """Freeze the two shares of the bill on its claim (no claim: nothing)."""
    claim = claim or InsuranceClaim.objects.filter(repair_order_id=bill.repair_order_id).first()
    if claim is None:
        return None
    claim.insurer_amount, claim.owner_amount = split(bill.total, claim.share_kind, claim.share_value)
    claim.save(update_fields=["insurer_amount", "owner_amount", "updated_at"])
    return claim


@transaction.atomic
def claim_mark_paid(*, actor: Actor, claim: InsuranceClaim) -> InsuranceClaim:
    """The insurer paid its share: pending → paid (409 when paid already or not billed yet)."""
    claim = InsuranceClaim.objects.select_for_update().get(pk=claim.pk)
    require(actor, "pay", claim)
    if claim.status == ClaimStatus.PAID:
        raise Conflict(
            _("The insurer has paid this claim."), fields={"status": [_("The insurer has paid this claim.")]}
        )
    if claim.insurer_amount is None:
        message = _("The repair order has no bill yet.")
        raise Conflict(message, fields={"bill": [message]})
    claim.status, claim.paid_at = ClaimStatus.PAID, timezone.now()
    claim.save(update_fields=["status", "paid_at", "updated_at"])
    audit.record("insurance_claim.paid", obj=claim, actor=actor, extra={"amount": str(claim.insurer_amount)})
    return claim


def claim_list(*, actor: Actor, status: str | None = None) -> QuerySet[InsuranceClaim]:
    require_model(actor, "view", InsuranceClaim)
    qs = InsuranceClaim.objects.for_actor(actor, "view").select_related("repair_order", "repair_order__customer")
    if status not in (None, ""):
        if status not in ClaimStatus.values:
            from autocrm.core.errors import ValidationError

            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def open_claims(*, actor: Actor) -> tuple[list[InsuranceClaim], Decimal]:
    """The receivables insurers still owe (billed, pending) and their sum."""
    qs = claim_list(actor=actor, status=ClaimStatus.PENDING).filter(insurer_amount__isnull=False)
    total = qs.aggregate(s=Sum("insurer_amount"))["s"] or Decimal("0.00")
    return list(qs[:500]), total


def claim_get(*, actor: Actor, pk: Any, action: str = "view") -> InsuranceClaim:
    return get_in_scope(InsuranceClaim.objects.select_related("repair_order"), actor, pk, action)


def claim_of(repair_order: RepairOrder) -> InsuranceClaim | None:
    return InsuranceClaim.objects.filter(repair_order=repair_order).first()
