"""Data-quality report per store: invalid, missing, probable duplicates, completeness.

Every figure is an aggregate query over the actor's scope (one scan of the customers, one per
registered related check — the vehicles' —, one count of the duplicate queue) — no per-row
Python, so the report stays fast at hundreds of thousands of customers per store.

Encrypted columns cannot be read by the database, but AES-GCM keeps the plaintext's length:
``enc:v1:<kid>:`` + base64(12-byte nonce + plaintext + 16-byte tag). The length and the ``=``
padding of the stored value therefore tell exactly how long the plaintext is, which is enough to
find what a row written around the services typically gets wrong — a mobile that is not the
14 characters of ``+861xxxxxxxxxx`` (E.164), an ID number that is not 18 characters, a value
stored in clear. The services validate content (carrier prefix, ID checksum) on every write.

Problems found in other apps' rows (a vehicle's invalid VIN or plate) are registered by those
apps (:func:`register_related_check`), so ``customers`` names none of their models or fields."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from django.core.cache import cache
from django.db.models import CharField, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Length, Right, Trim
from django.utils.translation import gettext_lazy as _

from autocrm.core import crypto
from autocrm.core.actor import Actor
from autocrm.core.extensions import Registry, registry
from autocrm.core.permissions import Scope, require_model, scope_for
from autocrm.tenancy.models import Store

from .choices import CustomerKind, DuplicateStatus
from .models import Customer, DuplicatePair

E164_CN_MOBILE_LENGTH = 14  # +86 and 11 digits
ID_NUMBER_LENGTH = 18


@dataclass(frozen=True)
class Problem:
    key: str
    group: str  # invalid, missing, duplicates
    label: Any


@dataclass(frozen=True)
class RelatedCheck:
    """Problems another app finds in its own rows about customers (vehicles: invalid VIN, plate).

    ``customers_q(problem key)`` is the condition on ``Customer`` rows affected (the problem's
    list); ``counts(actor)`` gives, per store in the actor's scope, the number of the other app's
    rows with each problem — in one query — or None when the actor may not see those rows."""

    key: str
    problems: tuple[Problem, ...]
    customers_q: Callable[[str], Q]
    counts: Callable[[Actor], dict[int, dict[str, int]] | None]


RELATED_CHECKS: Registry[RelatedCheck] = registry("customers.quality_checks")


def register_related_check(
    key: str,
    *,
    problems: tuple[Problem, ...],
    customers_q: Callable[[str], Q],
    counts: Callable[[Actor], dict[int, dict[str, int]] | None],
    order: int = 100,
) -> None:
    """Called from a higher app's ``AppConfig.ready``."""
    RELATED_CHECKS.register(RelatedCheck(key, problems, customers_q, counts), key=key, order=order)


OWN_PROBLEMS: tuple[Problem, ...] = (
    Problem("invalid_mobile", "invalid", _("Mobile not a valid number")),
    Problem("invalid_id_number", "invalid", _("ID number not valid")),
    Problem("three_elements", "missing", _("Name, mobile or address missing (three-element check)")),
    Problem("missing_mobile", "missing", _("No mobile")),
    Problem("missing_address", "missing", _("No street address")),
    Problem("missing_district", "missing", _("No district")),
    Problem("missing_id_number", "missing", _("No ID number (persons)")),
    Problem("missing_consultant", "missing", _("No sales consultant assigned")),
    Problem("duplicates", "duplicates", _("In an open probable-duplicate pair")),
)
_GROUPS = ("invalid", "missing", "duplicates")


def _related_problems() -> Iterator[tuple[RelatedCheck, Problem]]:
    for check in RELATED_CHECKS.entries():
        for problem in check.problems:
            yield check, problem


def _all_problems() -> tuple[Problem, ...]:
    """The customers' own problems and the registered ones, grouped invalid → missing → duplicates."""
    related = [p for _c, p in _related_problems()]
    return tuple(p for group in _GROUPS for p in (*OWN_PROBLEMS, *related) if p.group == group)


class _Problems(Sequence[Problem]):
    """Every problem, read from the registry when used (apps register after this module loads)."""

    @overload
    def __getitem__(self, index: int) -> Problem: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Problem]: ...
    def __getitem__(self, index: Any) -> Any:
        return _all_problems()[index]

    def __len__(self) -> int:
        return len(_all_problems())

    def __iter__(self) -> Iterator[Problem]:
        return iter(_all_problems())


class _ProblemKeys(Mapping[str, Problem]):
    def __getitem__(self, key: str) -> Problem:
        for p in _all_problems():
            if p.key == key:
                return p
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (p.key for p in _all_problems())

    def __len__(self) -> int:
        return len(_all_problems())


PROBLEMS: Sequence[Problem] = _Problems()
PROBLEM_KEYS: Mapping[str, Problem] = _ProblemKeys()
# Fields counted for the completeness rate (filled share over all customers).
COMPLETENESS_FIELDS = ("name", "mobile", "address", "district", "id_number", "gender", "birthday", "consultant")


def _ciphertext_shape(plain_length: int) -> tuple[set[int], str]:
    """Stored lengths (one per configured key id) and the base64 padding of a value of ``plain_length``."""
    raw = 12 + plain_length + 16
    body = 4 * math.ceil(raw / 3)
    configured = crypto.keys()
    lengths = {len(crypto.PREFIX) + len(key.kid) + 1 + body for key in configured}
    return lengths, "=" * (-raw % 3)


def _shape_ok(prefix: str, plain_length: int) -> Q:
    """Rows whose encrypted ``prefix`` column holds a plaintext of exactly ``plain_length`` characters."""
    lengths, padding = _ciphertext_shape(plain_length)
    tail = f"{prefix}_tail"
    if padding:
        return Q(**{f"{prefix}_len__in": lengths, tail: padding})
    return Q(**{f"{prefix}_len__in": lengths}) & ~Q(**{f"{tail}__endswith": "="})


def annotated(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """The customers with the cheap per-row expressions the problem filters use."""
    text: CharField[str, str] = CharField()
    _, mobile_pad = _ciphertext_shape(E164_CN_MOBILE_LENGTH)
    _, id_pad = _ciphertext_shape(ID_NUMBER_LENGTH)
    return queryset.annotate(
        q_name_len=Length(Trim("name"), output_field=IntegerField()),
        mobile_len=Length("mobile", output_field=IntegerField()),
        mobile_tail=Right("mobile", max(len(mobile_pad), 1), output_field=text),
        id_len=Length("id_number", output_field=IntegerField()),
        id_tail=Right("id_number", max(len(id_pad), 1), output_field=text),
        address_len=Length("address", output_field=IntegerField()),
    )


def problem_q(key: str) -> Q:
    """The filter selecting the customers affected by problem ``key`` (on :func:`annotated` rows)."""
    if key == "invalid_mobile":
        return Q(mobile_len__gt=0) & ~_shape_ok("mobile", E164_CN_MOBILE_LENGTH)
    if key == "invalid_id_number":
        return Q(id_len__gt=0) & ~_shape_ok("id", ID_NUMBER_LENGTH)
    if key == "three_elements":
        return Q(q_name_len=0) | Q(mobile_len=0) | Q(address_len=0)
    if key == "missing_mobile":
        return Q(mobile_len=0)
    if key == "missing_address":
        return Q(address_len=0)
    if key == "missing_district":
        return Q(district="")
    if key == "missing_id_number":
        return Q(id_len=0, kind=CustomerKind.PERSON)
    if key == "missing_consultant":
        return Q(consultant__isnull=True)
    if key == "duplicates":
        open_pairs = DuplicatePair.objects.filter(status=DuplicateStatus.OPEN)
        return Q(Exists(open_pairs.filter(customer_a_id=OuterRef("pk")))) | Q(
            Exists(open_pairs.filter(customer_b_id=OuterRef("pk")))
        )
    for check, problem in _related_problems():
        if problem.key == key:
            return check.customers_q(key)
    raise KeyError(key)


@dataclass
class StoreQuality:
    store_id: int
    store_name: str
    customers: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    three_element_rate: float = 1.0  # share of customers with name, mobile and address
    completeness_rate: float = 1.0  # filled share of COMPLETENESS_FIELDS over all customers
    # Problems counted in another app's rows rather than in customers (registered checks), by key.
    related: dict[str, int] = field(default_factory=dict)

    @property
    def invalid(self) -> int:
        return sum(self.counts.get(p.key, 0) for p in PROBLEMS if p.group == "invalid")

    def rows(self) -> list[tuple[Problem, int]]:
        return [(p, self.counts.get(p.key, 0)) for p in PROBLEMS]


def _base(actor: Actor) -> QuerySet[Customer]:
    """The live customers within the actor's ``quality`` scope (the report is a manager's tool:
    a role without the action gets none, not the customers it may merely view)."""
    return Customer.objects.for_actor(actor, "quality").filter(merged_into__isnull=True)


CACHE_SECONDS = 60


def quality_report(*, actor: Actor, refresh: bool = False) -> list[StoreQuality]:
    """One entry per store in the actor's scope (a manager: their store; a director: each store).

    At 500,000 customers a store takes a few seconds to scan, so the figures are kept for
    ``CACHE_SECONDS`` per scope; ``refresh`` recomputes them (the page's refresh link).
    A role without the ``quality`` action gets :class:`PermissionDenied` (403, audited)."""
    scope = require_model(actor, "quality", Customer)
    key = "customers.quality:" + ",".join(map(str, actor_store_ids(actor)))
    if scope in (Scope.OWN, Scope.OWN_OR_UNASSIGNED):
        key += f":{scope.value}:{actor.user_id}"
    report = None if refresh else cache.get(key)
    if report is None:
        report = _compute(actor)
        cache.set(key, report, CACHE_SECONDS)
    return report


def _compute(actor: Actor) -> list[StoreQuality]:
    rows = annotated(_base(actor))
    customer_keys = [p.key for p in OWN_PROBLEMS if p.key != "duplicates"]
    aggregates: dict[str, Any] = {
        "customers": Count("id"),
        **{key: Count("id", filter=problem_q(key)) for key in customer_keys},
        "filled": Sum(
            sum(
                (_filled(name) for name in COMPLETENESS_FIELDS),
                Value(0),
            ),
            output_field=IntegerField(),
        ),
    }
    report: dict[int, StoreQuality] = {}
    stores = dict(Store.objects.filter(pk__in=actor_store_ids(actor)).values_list("pk", "name"))
    for row in rows.order_by().values("store_id").annotate(**aggregates):
        sq = StoreQuality(store_id=row["store_id"], store_name=stores.get(row["store_id"], ""))
        sq.customers = row["customers"]
        sq.counts = {key: row[key] for key in customer_keys}
        if sq.customers:
            sq.three_element_rate = 1 - row["three_elements"] / sq.customers
            sq.completeness_rate = (row["filled"] or 0) / (sq.customers * len(COMPLETENESS_FIELDS))
        report[sq.store_id] = sq
    for store_id in stores:
        report.setdefault(store_id, StoreQuality(store_id=store_id, store_name=stores[store_id]))
    _related_counts(actor, report)
    pairs = DuplicatePair.objects.for_actor(actor, "view").filter(status=DuplicateStatus.OPEN)
    for row in pairs.order_by().values("store_id").annotate(n=Count("id")):
        if row["store_id"] in report:
            report[row["store_id"]].counts["duplicates"] = row["n"]
    for sq in report.values():
        sq.counts.setdefault("duplicates", 0)
    return [report[k] for k in sorted(report, key=lambda k: stores.get(k, ""))]


def _filled(name: str) -> Any:
    from django.db.models import Case, When

    if name == "name":
        condition = Q(q_name_len__gt=0)
    elif name in ("mobile", "address"):
        condition = Q(**{f"{name}_len__gt": 0})
    elif name == "id_number":
        condition = Q(id_len__gt=0) | Q(kind=CustomerKind.COMPANY)
    elif name in ("birthday", "consultant"):
        condition = Q(**{f"{name}__isnull": False})
    else:
        condition = ~Q(**{name: ""})
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _related_counts(actor: Actor, report: dict[int, StoreQuality]) -> None:
    """The registered checks' counts, one query per check (0 where the actor may not see them)."""
    for check in RELATED_CHECKS.entries():
        keys = [p.key for p in check.problems]
        for sq in report.values():
            for key in keys:
                sq.counts.setdefault(key, 0)
                sq.related.setdefault(key, 0)
        for store_id, counts in (check.counts(actor) or {}).items():
            found = report.get(store_id)
            if found is not None:
                for key in keys:
                    found.counts[key] = found.related[key] = counts.get(key, 0)


def actor_store_ids(actor: Actor) -> list[int]:
    from autocrm.core.permissions import store_ids_for

    scope = scope_for(actor, Customer, "view")
    return list(store_ids_for(actor, scope)) if scope is not None else []


def quality_customers(*, actor: Actor, problem: str, store_id: int | None = None) -> QuerySet[Customer]:
    """The customers in scope affected by ``problem`` (KeyError for an unknown one), to fix them.
    A role without the ``quality`` action gets :class:`PermissionDenied` (403, audited)."""
    require_model(actor, "quality", Customer)
    if problem not in PROBLEM_KEYS:
        raise KeyError(problem)
    qs = annotated(_base(actor)).filter(problem_q(problem))
    if store_id:
        qs = qs.filter(store_id=store_id)
    return qs
