"""The batch duplicate finder and the review queue it fills (issue 4 item 7).

Blocking, then scoring (docs/adr/0002-duplicate-finder.md says why it is hand-rolled):

* blocks group the store's live customers (not merged away) that share a key: the mobile's
  blind index, the ID number's blind index, the email or WeChat ID, the name's pinyin within
  the same district (the city when the district is empty), or a key another app registered as
  evidence (:data:`EVIDENCE_SOURCES` — vehicles: the same plate, the same VIN);
* every pair inside a block is scored once: a log-odds sum of evidence (same ID number, same
  mobile, registered evidence, same email/WeChat, name similarity by rapidfuzz, same pinyin, same
  district/community, same or different birthday and gender) squashed into [0, 1], with the
  reasons a reviewer reads;
* pairs at or above the threshold are upserted into :class:`DuplicatePair`: new pairs open,
  open pairs re-scored, dismissed and merged pairs left as they are.

Everything is read with ``values_list`` (no model instances, no decryption: blind indexes are
deterministic) so 100,000 customers take seconds, not minutes.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz

from autocrm.core import audit
from autocrm.core.actor import Actor
from autocrm.core.errors import NotFound, PermissionDenied, ValidationError
from autocrm.core.extensions import Registry, registry
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import Scope, can, get_in_scope, require, require_model, scope_for

from .choices import DuplicateStatus
from .models import Customer, DuplicatePair

DEFAULT_THRESHOLD = 0.6
# A block bigger than this is a shared switchboard number or a very common name in a big
# district: it is split by community, and skipped if still too big (pairs grow as n²).
MAX_BLOCK = 60

# Evidence weights in log-odds units (natural log of how much likelier the observation is for
# the same person than for two different people). Hand-set from the demo truth; see the ADR.
PRIOR = -6.0
WEIGHTS = {
    "same_id_number": 10.0,
    "other_id_number": -5.0,
    "same_mobile": 6.0,
    "same_wechat": 4.0,
    "same_email": 4.0,
    "same_name": 4.0,
    "same_pinyin": 3.5,
    "reordered_name": 3.5,
    "same_district": 1.0,
    "other_district": -1.0,
    "same_community": 2.0,
    "same_birthday": 3.0,
    "other_birthday": -3.0,
    "other_gender": -3.0,
}
NAME_SLOPE = 6.0  # similar_name adds NAME_SLOPE * (similarity - 0.5): 0.5 → 0, 0 → -3, 0.67 → +1

REASON_LABELS: dict[str, Any] = {
    "same_id_number": _("Same ID number"),
    "other_id_number": _("Different ID numbers"),
    "same_mobile": _("Same mobile"),
    "same_wechat": _("Same WeChat ID"),
    "same_email": _("Same email"),
    "same_name": _("Same name"),
    "same_pinyin": _("Same name in pinyin (homophone)"),
    "reordered_name": _("Same name in another order"),
    "similar_name": _("Similar names (%(percent)s%%)"),
    "different_name": _("Different names (%(percent)s%% alike)"),
    "same_district": _("Same district"),
    "other_district": _("Different districts"),
    "same_community": _("Same residential community"),
    "same_birthday": _("Same birthday"),
    "other_birthday": _("Different birthdays"),
    "other_gender": _("Different gender"),
}


@dataclass(frozen=True)
class Evidence:
    """A reason code another app contributes (``same_vin``): its log-odds weight and its label."""

    code: str
    weight: float
    label: Any


@dataclass(frozen=True)
class EvidenceSource:
    """Keys another app holds about a store's customers: ``load(store_id)`` yields
    ``(customer id, evidence code, normalised key)``; customers sharing a key form a block and
    the pair gets the code's weight once."""

    key: str
    load: Callable[[int], Iterable[tuple[int, str, str]]]


EVIDENCE: Registry[Evidence] = registry("customers.dedup_evidence")
EVIDENCE_SOURCES: Registry[EvidenceSource] = registry("customers.dedup_evidence_sources")


def register_evidence(code: str, *, weight: float, label: Any, order: int = 100) -> None:
    """Called from a higher app's ``AppConfig.ready`` (with :func:`register_evidence_source`)."""
    EVIDENCE.register(Evidence(code, weight, label), key=code, order=order)


def register_evidence_source(key: str, load: Callable[[int], Iterable[tuple[int, str, str]]]) -> None:
    EVIDENCE_SOURCES.register(EvidenceSource(key, load), key=key)


def weight(code: str) -> float:
    """The log-odds weight of a reason code: the finder's own, or a registered one (0 if unknown)."""
    if code in WEIGHTS:
        return WEIGHTS[code]
    entry = EVIDENCE.get(code)
    return entry.weight if entry is not None else 0.0


def reason_text(reason: dict[str, Any]) -> str:
    """A stored reason (``{"code": …, "similarity": …}``) as a sentence in the active language."""
    code = reason.get("code", "")
    label = REASON_LABELS.get(code)
    if label is None and (entry := EVIDENCE.get(code)) is not None:
        label = entry.label
    if label is None:
        return str(reason.get("code", ""))
    if "similarity" in reason:
        return str(label) % {"percent": round(100 * float(reason["similarity"]))}
    return str(label)


# Columns read per customer, in this order (indexes below).
_COLUMNS = (
    "id", "name", "name_pinyin", "kind", "district", "city", "community", "birthday", "gender",
    "mobile_index", "id_number_index", "email", "wechat_id", "updated_at",
)  # fmt: skip
_ID, _NAME, _PINYIN, _KIND, _DISTRICT, _CITY, _COMMUNITY, _BIRTHDAY, _GENDER = range(9)
_MOBILE, _IDNO, _EMAIL, _WECHAT = 9, 10, 11, 12


@dataclass
class FinderResult:
    """What one run of the finder did (returned by :func:`duplicates_find`, shown to the user)."""

    store_id: int
    queued: bool = False  # handed to the worker: the figures come when it has run
    customers: int = 0
    candidate_pairs: int = 0
    pairs: int = 0
    created: int = 0
    updated: int = 0
    skipped_blocks: int = 0
    seconds: float = 0.0
    found: list[tuple[int, int, float]] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "store": self.store_id,
            "customers": self.customers,
            "candidate_pairs": self.candidate_pairs,
            "pairs": self.pairs,
            "created": self.created,
            "updated": self.updated,
            "skipped_blocks": self.skipped_blocks,
            "seconds": round(self.seconds, 3),
        }


def _compact(name: str) -> str:
    return "".join(name.split()).lower()


def score_pair(
    a: tuple[Any, ...], b: tuple[Any, ...], shared: Iterable[str] = ()
) -> tuple[float, list[dict[str, Any]]]:
    """Score two customer rows (``_COLUMNS`` tuples). ``shared`` names the registered evidence
    the blocking found in common (``same_plate``, ``same_vin``). Returns ``(score, reasons)``."""
    logit = PRIOR
    reasons: list[dict[str, Any]] = []

    def add(code: str, **extra: Any) -> None:
        nonlocal logit
        logit += weight(code)
        reasons.append({"code": code, **extra})

    if a[_IDNO] and b[_IDNO]:
        # Two valid ID numbers (the check character catches most typos) are two people.
        add("same_id_number" if a[_IDNO] == b[_IDNO] else "other_id_number")
    if a[_MOBILE] and a[_MOBILE] == b[_MOBILE]:
        add("same_mobile")
    for code in sorted(set(shared)):
        add(code)
    if a[_WECHAT] and a[_WECHAT].strip().lower() == b[_WECHAT].strip().lower():
        add("same_wechat")
    if a[_EMAIL] and a[_EMAIL].strip().lower() == b[_EMAIL].strip().lower():
        add("same_email")

    name_a, name_b = _compact(a[_NAME]), _compact(b[_NAME])
    if name_a == name_b:
        add("same_name")
    elif a[_PINYIN] and a[_PINYIN] == b[_PINYIN]:
        add("same_pinyin")
    elif " " in a[_NAME].strip() and fuzz.token_sort_ratio(a[_NAME], b[_NAME]) == 100:
        add("reordered_name")  # "Tom Li" / "Li Tom"
    else:
        similarity = fuzz.ratio(name_a, name_b) / 100
        logit += NAME_SLOPE * (similarity - 0.5)
        reasons.append({"code": "similar_name" if similarity >= 0.5 else "different_name",
                        "similarity": round(similarity, 2)})  # fmt: skip

    if a[_DISTRICT] and b[_DISTRICT]:
        add("same_district" if a[_DISTRICT] == b[_DISTRICT] else "other_district")
    if a[_COMMUNITY] and a[_COMMUNITY] == b[_COMMUNITY]:
        add("same_community")
    if a[_BIRTHDAY] and b[_BIRTHDAY]:
        add("same_birthday" if a[_BIRTHDAY] == b[_BIRTHDAY] else "other_birthday")
    if a[_GENDER] and b[_GENDER] and a[_GENDER] != b[_GENDER]:
        add("other_gender")
    # Strong evidence first: the queue shows the first reasons.
    reasons.sort(key=lambda r: -weight(r["code"]))
    return 1 / (1 + math.exp(-logit)), reasons


def _blocks(
    rows: dict[int, tuple[Any, ...]], related: Iterable[tuple[int, str, str]]
) -> Iterator[tuple[str, list[int], bool]]:
    """``(kind, member ids, is registered evidence)`` for every block with two or more members."""
    mobile: dict[str, list[int]] = defaultdict(list)
    idno: dict[str, list[int]] = defaultdict(list)
    pinyin: dict[tuple[str, str], list[int]] = defaultdict(list)
    contact: dict[str, list[int]] = defaultdict(list)
    for cid, row in rows.items():
        if row[_EMAIL]:
            contact["e:" + row[_EMAIL].strip().lower()].append(cid)
        if row[_WECHAT]:
            contact["w:" + row[_WECHAT].strip().lower()].append(cid)
        if row[_MOBILE]:
            mobile[row[_MOBILE]].append(cid)
        if row[_IDNO]:
            idno[row[_IDNO]].append(cid)
        if row[_PINYIN]:
            pinyin[(row[_PINYIN], row[_DISTRICT] or row[_CITY])].append(cid)
    shared: dict[tuple[str, str], set[int]] = defaultdict(set)
    for cid, code, key in related:
        if key and cid in rows:
            shared[(code, key)].add(cid)
    for kind, groups in (("id", idno), ("mobile", mobile), ("contact", contact), ("pinyin", pinyin)):
        for members in groups.values():
            if len(members) > 1:
                yield kind, members, False
    for (code, _key), vmembers in shared.items():  # (no sort: 50,000 keys a store, most of one member)
        if len(vmembers) > 1:
            yield code, sorted(vmembers), True


def _split(rows: dict[int, tuple[Any, ...]], members: list[int]) -> list[list[int]]:
    """Split an oversized block by residential community (then drop what is still too big)."""
    by_community: dict[str, list[int]] = defaultdict(list)
    for cid in members:
        by_community[rows[cid][_COMMUNITY]].append(cid)
    return [m for key, m in by_community.items() if key and 1 < len(m) <= MAX_BLOCK]


def candidate_pairs(
    rows: dict[int, tuple[Any, ...]], related: Iterable[tuple[int, str, str]]
) -> tuple[dict[tuple[int, int], set[str]], int]:
    """Pairs to score (lower id first) with the registered evidence they share, and how many
    blocks were too big to pair in full."""
    pairs: dict[tuple[int, int], set[str]] = {}
    skipped = 0
    for kind, members, evidence in _blocks(rows, related):
        groups = [members]
        if len(members) > MAX_BLOCK:
            skipped += 1
            groups = _split(rows, members)
        for group in groups:
            group = sorted(group)
            for i, left in enumerate(group):
                for right in group[i + 1 :]:
                    shared = pairs.setdefault((left, right), set())
                    if evidence:
                        shared.add(kind)
    return pairs, skipped


def find_in_rows(
    rows: dict[int, tuple[Any, ...]],
    related: Iterable[tuple[int, str, str]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[list[tuple[int, int, float, list[dict[str, Any]]]], int, int]:
    """The pure part of the finder: ``([(a, b, score, reasons)], candidates, skipped_blocks)``.
    ``related`` holds the registered evidence: ``(customer id, code, key)``."""
    pairs, skipped = candidate_pairs(rows, related)
    found = []
    for (left, right), shared in pairs.items():
        if rows[left][_KIND] != rows[right][_KIND]:
            continue  # a person and a company are never one record
        score, reasons = score_pair(rows[left], rows[right], shared)
        if score >= threshold:
            found.append((left, right, round(score, 4), reasons))
    return found, len(pairs), skipped


def load_rows(store_id: int) -> tuple[dict[int, tuple[Any, ...]], list[tuple[int, str, str]]]:
    """The store's live customers as tuples, and ``(customer id, evidence code, key)`` from every
    registered evidence source (keys of merged-away customers are ignored by the blocking)."""
    base = Customer.objects.filter(store_id=store_id, merged_into__isnull=True)
    rows = {row[0]: row for row in base.values_list(*_COLUMNS).iterator(chunk_size=5000)}
    related: list[tuple[int, str, str]] = []
    for source in EVIDENCE_SOURCES.entries():
        related.extend(source.load(store_id))
    return rows, related


def duplicates_find(
    *,
    actor: Actor | None = None,
    store_id: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    run_now: bool = False,
) -> FinderResult:
    """Run the finder over one store and fill the review queue — the one entry point of the
    page, the API and the worker.

    With an ``actor`` the store is the actor's current store and the actor must be allowed to
    change duplicate pairs (managers; else 403); a threshold outside (0, 1] is a 400. When a
    worker runs (the queue is not immediate) and not ``run_now``, the run is queued instead and
    the result says ``queued`` (the task re-checks the actor's rights in that store and runs it
    with ``run_now``). Without an actor (the worker, benchmarks) ``store_id`` is required. New
    pairs are created open; open pairs are re-scored; dismissed and merged pairs keep their
    status, so a reviewer's "not a duplicate" sticks."""
    if actor is not None:
        if not can(actor, "change", DuplicatePair):
            raise PermissionDenied()
        store_id = actor.store_id
    if store_id is None:
        raise ValidationError(fields={"store": [_("Choose a store.")]})
    if not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise ValidationError(fields={"threshold": [_("Choose a threshold between 0 and 1.")]})
    if actor is not None and not run_now:
        from .tasks import duplicates_find_task

        if not duplicates_find_task.huey.immediate:
            duplicates_find_task(store_id, actor.user_id, threshold)
            return FinderResult(store_id=store_id, queued=True)
    started = time.perf_counter()
    result = FinderResult(store_id=store_id)
    rows, vehicles = load_rows(store_id)
    found, result.candidate_pairs, result.skipped_blocks = find_in_rows(rows, vehicles, threshold=threshold)
    result.customers = len(rows)
    result.pairs = len(found)
    result.found = [(a, b, s) for a, b, s, _r in found]
    result.created, result.updated = _upsert(store_id, found)
    result.seconds = time.perf_counter() - started
    audit.record(
        "customer.duplicates_found",
        actor=actor,
        store_id=store_id,
        object_type="customers.duplicatepair",
        extra=result.as_dict(),
    )
    return result


@transaction.atomic
def _upsert(store_id: int, found: list[tuple[int, int, float, list[dict[str, Any]]]]) -> tuple[int, int]:
    existing = {
        (a, b): (pk, status, score, reasons)
        for pk, a, b, status, score, reasons in DuplicatePair.objects.filter(store_id=store_id).values_list(
            "id", "customer_a_id", "customer_b_id", "status", "score", "reasons"
        )
    }
    now = timezone.now()
    new: list[DuplicatePair] = []
    changed: list[DuplicatePair] = []
    for a, b, score, reasons in found:
        old = existing.get((a, b))
        if old is None:
            new.append(DuplicatePair(store_id=store_id, customer_a_id=a, customer_b_id=b, score=score,
                                     reasons=reasons, created_at=now, updated_at=now))  # fmt: skip
        elif old[1] == DuplicateStatus.OPEN and (old[2] != score or old[3] != reasons):
            changed.append(DuplicatePair(pk=old[0], score=score, reasons=reasons, updated_at=now))
    DuplicatePair.objects.bulk_create(new, batch_size=2000)
    DuplicatePair.objects.bulk_update(changed, ["score", "reasons", "updated_at"], batch_size=2000)
    return len(new), len(changed)


# --- the review queue (reads) -------------------------------------------------------------------


def duplicate_pair_list(*, actor: Actor, status: str | None = DuplicateStatus.OPEN) -> QuerySet[DuplicatePair]:
    """Pairs in the actor's scope whose two customers the actor may both see (a consultant: the
    pairs among their own customers), best first. Open pairs whose customers were since merged
    into someone else are left out (the pair no longer describes two live records). A role
    without ``view`` on pairs gets :class:`PermissionDenied` (403, audited)."""
    pair_scope = require_model(actor, "view", DuplicatePair)
    qs = DuplicatePair.objects.for_actor(actor, "view")
    customer_scope = scope_for(actor, Customer, "view")
    if customer_scope is None:
        return qs.none()
    if customer_scope not in (Scope.STORE, Scope.ORGANIZATION) or (
        customer_scope is Scope.STORE and pair_scope is Scope.ORGANIZATION
    ):  # customers narrower than pairs: keep the pairs of visible customers only
        customers = Customer.objects.for_actor(actor, "view").values("pk")
        qs = qs.filter(customer_a__in=customers, customer_b__in=customers)
    if status:
        if status not in DuplicateStatus.values:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=status)
    if status == DuplicateStatus.OPEN:
        qs = qs.filter(customer_a__merged_into__isnull=True, customer_b__merged_into__isnull=True)
    return qs.select_related("customer_a", "customer_b")


def duplicate_pair_page(
    *, actor: Actor, status: str | None = DuplicateStatus.OPEN, limit: Any = None, cursor: str | None = None
) -> Page:
    """A keyset page of :func:`duplicate_pair_list` (the same visibility: both customers in scope)."""
    return paginate(duplicate_pair_list(actor=actor, status=status), ordering=("-score", "-id"), limit=limit,
                    cursor=cursor)  # fmt: skip


def duplicate_pair_get(*, actor: Actor, pk: Any, action: str = "view") -> DuplicatePair:
    """One pair for ``action``: missing, outside the actor's scope, or with a customer the actor
    may not see → :class:`NotFound` (alike); visible but ``action`` not allowed → 403."""
    pair = get_in_scope(DuplicatePair.objects.select_related("customer_a", "customer_b"), actor, pk, "view")
    if not (can(actor, "view", pair.customer_a) and can(actor, "view", pair.customer_b)):
        raise NotFound()
    if action != "view":
        require(actor, action, pair)
    return pair


def pair_for(customer_a_id: int, customer_b_id: int) -> DuplicatePair | None:
    low, high = sorted((customer_a_id, customer_b_id))
    return DuplicatePair.objects.filter(customer_a_id=low, customer_b_id=high).first()
