"""The batch duplicate finder and the review queue it fills (issues 4 item 7, 10 items 2–4).

Blocking, then scoring (docs/adr/0002-duplicate-finder.md says why it is hand-rolled and how the
weights were set):

* blocks group the store's live customers (not merged away) that share a key: a phone (the
  mobile's or the first other phone's blind index — a changed mobile is often kept as an other
  phone), the ID number's blind index, the email or WeChat ID, the street + house number of the
  address (a blind index: 人民路208), the name's sound (folded pinyin of the normalised name:
  劉萍平, 刘 萍平 and 刘平平 share ``liupinpin``), the surname with the birthday, or a key another
  app registered as evidence (:data:`EVIDENCE_SOURCES` — vehicles: the same plate, the same VIN).
  A block bigger than :data:`MAX_BLOCK` is split by district, surname, name sound and birthday in
  turn and dropped only if still too big, so the candidates stay near-linear in the customers;
* every pair inside a block is scored once by :func:`score_pair`: a log-odds sum of evidence
  squashed into [0, 1], with the reasons a reviewer reads. The name's weight is learnt from how
  common the name is in the store (``core.names.NameStats``: 张伟 says little, 覃嘉懿 a lot);
* pairs at or above the threshold are upserted into :class:`DuplicatePair`: new pairs open,
  open pairs re-scored, dismissed and merged pairs left as they are.

Everything is read with ``values_list`` (no model instances, no decryption: blind indexes are
deterministic) so 100,000 customers take seconds, not minutes. Reasons hold codes and, for
evidence that is not secret (a plate), its value — never a decrypted phone or address: those
are rendered when shown (:func:`reason_value`), masked as the viewer's role requires.
"""

from __future__ import annotations

import datetime as dt
import math
import pickle
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit
from autocrm.core.actor import Actor
from autocrm.core.addresses import address_parse, normalize_address_text
from autocrm.core.errors import NotFound, PermissionDenied, ValidationError
from autocrm.core.extensions import Registry, registry
from autocrm.core.fields import BlindIndexField
from autocrm.core.names import NameKeys, NameStats, name_keys, names_similar
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import (
    Access,
    Scope,
    can,
    field_access,
    get_in_scope,
    present,
    require,
    require_model,
    scope_for,
)

from .choices import DuplicateStatus
from .models import Customer, DuplicatePair, HouseholdMember

DEFAULT_THRESHOLD = 0.6
# A block bigger than this (a switchboard number, a big apartment block, a common name) is split
# by the next key of _SPLITTERS; what is still too big after the last one is skipped.
MAX_BLOCK = 60
# Names and surname + birthday are weaker keys: a common name's block is split sooner (by area,
# which common names need anyway to score).
MAX_NAME_BLOCK = 10

# Evidence weights in log-odds units (natural log of how much likelier the observation is for
# the same person than for two different people). Hand-set, then checked on the messy generator's
# truth; the name's weight comes from its frequency (core.names). See the ADR.
PRIOR = -6.0
WEIGHTS = {
    "same_id_number": 10.0,
    "other_id_number": -5.0,
    "same_mobile": 6.0,
    "mobile_is_other_phone": 5.5,
    "same_other_phone": 3.0,
    "same_wechat": 4.0,
    "same_email": 4.0,
    "same_address": 3.5,
    "same_employer": 1.0,
    "different_name": -4.0,
    "same_district": 1.0,
    "other_district": -1.0,
    "same_community": 2.0,
    "same_birthday": 4.0,
    "similar_birthday": 1.0,
    "other_birthday": -3.0,
    "other_gender": -3.0,
    "household_members": -8.0,
}
NAME_SLOPE = 6.0  # similar_name adds NAME_SLOPE * (similarity - 0.5): 0.5 → 0, 0.8 → +1.8
HOMOPHONE_DISCOUNT = 0.5  # same pinyin, other characters: the pinyin's weight minus this
SOUND_DISCOUNT = 1.5  # same folded pinyin only (zh/z, -ng/-n…): the pinyin's weight minus this
NAME_CODES = frozenset({"same_name", "reordered_name", "same_pinyin", "similar_sound", "similar_name",
                        "different_name"})  # fmt: skip

REASON_LABELS: dict[str, Any] = {
    "same_id_number": _("Same ID number"),
    "other_id_number": _("Different ID numbers"),
    "same_mobile": _("Same mobile"),
    "mobile_is_other_phone": _("One's mobile is the other's other phone"),
    "same_other_phone": _("Same other phone"),
    "same_wechat": _("Same WeChat ID"),
    "same_email": _("Same email"),
    "same_address": _("Same address"),
    "same_employer": _("Same employer"),
    "same_name": _("Same name"),
    "same_pinyin": _("Same name in pinyin (homophone)"),
    "similar_sound": _("Names that sound alike"),
    "reordered_name": _("Same name in another order"),
    "similar_name": _("Similar names (%(percent)s%%)"),
    "different_name": _("Different names (%(percent)s%% alike)"),
    "same_district": _("Same district"),
    "other_district": _("Different districts"),
    "same_community": _("Same residential community"),
    "same_birthday": _("Same birthday"),
    "similar_birthday": _("Birthdays one typo apart"),
    "other_birthday": _("Different birthdays"),
    "other_gender": _("Different gender"),
    "household_members": _("Two members of one household"),
}


@dataclass(frozen=True)
class Evidence:
    """A reason code another app contributes (``same_vin``): its log-odds weight and its label;
    ``show_value`` when the shared key is not secret and the reason may keep it (a plate)."""

    code: str
    weight: float
    label: Any
    show_value: bool = False


@dataclass(frozen=True)
class EvidenceSource:
    """Keys another app holds about a store's customers: ``load(store_id)`` yields
    ``(customer id, evidence code, normalised key)``; customers sharing a key form a block and
    the pair gets the code's weight once."""

    key: str
    load: Callable[[int], Iterable[tuple[int, str, str]]]


EVIDENCE: Registry[Evidence] = registry("customers.dedup_evidence")
EVIDENCE_SOURCES: Registry[EvidenceSource] = registry("customers.dedup_evidence_sources")


def register_evidence(code: str, *, weight: float, label: Any, order: int = 100, show_value: bool = False) -> None:
    """Called from a higher app's ``AppConfig.ready`` (with :func:`register_evidence_source`)."""
    EVIDENCE.register(Evidence(code, weight, label, show_value), key=code, order=order)


def register_evidence_source(key: str, load: Callable[[int], Iterable[tuple[int, str, str]]]) -> None:
    EVIDENCE_SOURCES.register(EvidenceSource(key, load), key=key)


def weight(code: str) -> float:
    """The log-odds weight of a reason code: the finder's own, or a registered one (0 if unknown)."""
    if code in WEIGHTS:
        return WEIGHTS[code]
    entry = EVIDENCE.get(code)
    return entry.weight if entry is not None else 0.0


def reason_text(reason: Mapping[str, Any]) -> str:
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


# The customer field whose value (as the viewer may see it) a reason shows.
_REASON_FIELDS = {
    "same_id_number": "id_number",
    "same_mobile": "mobile",
    "same_wechat": "wechat_id",
    "same_email": "email",
    "same_employer": "employer",
    "same_district": "district",
    "same_community": "community",
    "same_birthday": "birthday",
}
_DIVISION_SUFFIXES = ("新区", "区", "县", "市", "旗")


@lru_cache(maxsize=8192)
def _division(value: str) -> str:
    """A district as compared: 静安区, 静安 and 靜安區 are one (suffix and script dropped)."""
    text = normalize_address_text(value) if value else ""
    for suffix in _DIVISION_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix)]
    return text


def _birthday_code(a: dt.date, b: dt.date) -> str:
    """Same, one typo apart (one of year, month, day differs, month and day swapped, or a day
    apart, as a spreadsheet's date conversion shifts it), or other."""
    if a == b:
        return "same_birthday"
    if abs((a - b).days) == 1:
        return "similar_birthday"
    differs = (a.year != b.year) + (a.month != b.month) + (a.day != b.day)
    if differs == 1 or (a.year == b.year and a.month == b.day and a.day == b.month):
        return "similar_birthday"
    return "other_birthday"


def _address_shown(actor: Actor, customer: Customer) -> str | None:
    """The street and number of a customer's address (人民路208号) for a viewer who may read the
    address in full; the street with its number masked (人民路***号, as ``mask_address`` never
    shows a digit) for one who sees it masked; None when hidden."""
    access = field_access(actor, customer, "address")
    if access is Access.HIDDEN or not customer.address:
        return None
    parsed = address_parse(customer.address)
    if access is Access.MASKED:
        return f"{parsed.street}***号" if parsed.street_key else str(present(actor, customer, "address"))
    return f"{parsed.street}{parsed.number}号" if parsed.street_key else customer.address


def reason_value(actor: Actor, pair: DuplicatePair, reason: Mapping[str, Any]) -> str | None:
    """What a reason is about, as ``actor`` may see it: the plate (kept in the reason: not
    secret), the shared mobile or address read from the pair's customers and masked as the
    actor's role requires, both names (劉萍平 ≈ 刘萍平). None when there is nothing to show or the
    actor may not see one of the two customers."""
    a, b = pair.customer_a, pair.customer_b
    if not (can(actor, "view", a) and can(actor, "view", b)):
        return None
    code = reason.get("code", "")
    if reason.get("value"):
        return str(reason["value"])
    if code in NAME_CODES:
        sign = "=" if code == "same_name" else "≈"
        return f"{a.name} {sign} {b.name}"
    if code == "same_address":
        return _address_shown(actor, a)
    if code == "mobile_is_other_phone":
        value = present(actor, a if reason.get("side") == "a" else b, "mobile")
        return str(value) if value else None
    name = _REASON_FIELDS.get(code)
    if name is None:
        return None
    value = present(actor, a, name)
    return str(value) if value not in (None, "") else None


def reason_display(actor: Actor, pair: DuplicatePair, reason: Mapping[str, Any]) -> str:
    """The reason's sentence followed by its value: "Same plate 川AB724E"."""
    text = reason_text(reason)
    value = reason_value(actor, pair, reason)
    return f"{text} {value}" if value else text


# Columns read per customer, in the order of Person's first fields.
_COLUMNS = (
    "id", "name", "kind", "district", "city", "community", "birthday", "gender", "mobile_index",
    "other_phone_index", "id_number_index", "email", "wechat_id", "address_key", "employer",
)  # fmt: skip


@dataclass(slots=True)
class Person:
    """One customer as the finder compares it: blind indexes, never decrypted values."""

    id: int
    name: str
    kind: str
    district: str
    city: str
    community: str
    birthday: dt.date | None
    gender: str
    mobile: str
    other_phone: str
    id_number: str
    email: str
    wechat: str
    address: str
    employer: str
    keys: NameKeys = field(default=None)  # type: ignore[assignment]
    households: dict[int, str] | None = None

    def __post_init__(self) -> None:
        self.email = (self.email or "").strip().lower()
        self.wechat = (self.wechat or "").strip().lower()
        self.employer = "".join((self.employer or "").split())
        self.district = _division(self.district or "")
        if self.keys is None:
            self.keys = name_keys(self.name)

    @property
    def area(self) -> str:
        return self.district or self.city


def person(row: Iterable[Any]) -> Person:
    return Person(*row)


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


_EMPTY_STATS = NameStats(())


def _name_evidence(ka: NameKeys, kb: NameKeys, stats: NameStats) -> tuple[float, dict[str, Any]]:
    if ka.normal and ka.normal == kb.normal:  # traditional, spaces, full-width, middle dots: one name
        return stats.same_name_weight(ka), {"code": "same_name"}
    if not ka.han and not kb.han and ka.ordered and ka.ordered == kb.ordered:
        return stats.same_name_weight(ka), {"code": "reordered_name"}  # "Tom Li" / "Li Tom"
    if ka.pinyin and ka.pinyin == kb.pinyin:  # 李静 / 李晶
        return stats.same_pinyin_weight(ka) - HOMOPHONE_DISCOUNT, {"code": "same_pinyin"}
    if ka.han and ka.fuzzy and ka.fuzzy == kb.fuzzy:  # 李静 / 李金, 张三 / 赃三
        return stats.same_pinyin_weight(ka) - SOUND_DISCOUNT, {"code": "similar_sound"}
    similarity = round(names_similar(ka, kb), 2)
    if similarity >= 0.5:
        return NAME_SLOPE * (similarity - 0.5), {"code": "similar_name", "similarity": similarity}
    return WEIGHTS["different_name"], {"code": "different_name", "similarity": similarity}


def score_pair(
    a: Person, b: Person, shared: Mapping[str, str] | Iterable[str] = (), stats: NameStats | None = None
) -> tuple[float, list[dict[str, Any]]]:
    """Score two customers. ``shared`` names the registered evidence the blocking found in
    common (``same_plate`` → its key), ``stats`` the store's name frequencies. Returns
    ``(score in [0, 1], reasons strongest first)``."""
    logit = PRIOR
    weighed: list[tuple[float, dict[str, Any]]] = []

    def add(code: str, **extra: Any) -> None:
        nonlocal logit
        w = weight(code)
        logit += w
        weighed.append((w, {"code": code, **extra}))

    if a.id_number and b.id_number:
        # Two valid ID numbers (the check character catches most typos) are two people.
        add("same_id_number" if a.id_number == b.id_number else "other_id_number")
    if a.mobile and a.mobile == b.mobile:
        add("same_mobile")
    elif a.mobile and a.mobile == b.other_phone:
        add("mobile_is_other_phone", side="a")  # the old mobile, kept on the newer record
    elif b.mobile and b.mobile == a.other_phone:
        add("mobile_is_other_phone", side="b")
    elif a.other_phone and a.other_phone == b.other_phone:
        add("same_other_phone")
    if isinstance(shared, Mapping):
        for code in sorted(shared):
            entry = EVIDENCE.get(code)
            if entry is not None and entry.show_value and shared[code]:
                add(code, value=shared[code])
            else:
                add(code)
    else:
        for code in sorted(set(shared)):
            add(code)
    if a.wechat and a.wechat == b.wechat:
        add("same_wechat")
    if a.email and a.email == b.email:
        add("same_email")
    if a.address and a.address == b.address:
        add("same_address")
    if a.employer and a.employer == b.employer:
        add("same_employer")

    w, reason = _name_evidence(a.keys, b.keys, stats or _EMPTY_STATS)
    logit += w
    weighed.append((w, reason))

    if a.district and b.district:
        add("same_district" if a.district == b.district else "other_district")
    if a.community and a.community == b.community:
        add("same_community")
    if a.birthday and b.birthday:
        add(_birthday_code(a.birthday, b.birthday))
    if a.gender and b.gender and a.gender != b.gender:
        add("other_gender")
    # Two members of one household under different relations were linked as two people.
    if a.households and b.households and any(b.households.get(h, r) != r for h, r in a.households.items()):
        add("household_members")
    # Strong evidence first: the queue shows the first reasons.
    weighed.sort(key=lambda item: -item[0])
    return 1 / (1 + math.exp(-logit)), [r for _w, r in weighed]


def quick_logit(a: Person, b: Person, shared: Mapping[str, str], stats: NameStats) -> float:
    """:func:`score_pair`'s log-odds without its reasons — the same terms in the same order, for
    the hundreds of thousands of candidate pairs a big store has (most far below the threshold);
    the pairs that pass are scored again with their reasons. A test keeps the two equal."""
    w = WEIGHTS
    logit = PRIOR
    if a.id_number and b.id_number:
        logit += w["same_id_number"] if a.id_number == b.id_number else w["other_id_number"]
    if a.mobile and a.mobile == b.mobile:
        logit += w["same_mobile"]
    elif (a.mobile and a.mobile == b.other_phone) or (b.mobile and b.mobile == a.other_phone):
        logit += w["mobile_is_other_phone"]
    elif a.other_phone and a.other_phone == b.other_phone:
        logit += w["same_other_phone"]
    for code in shared:
        logit += weight(code)
    if a.wechat and a.wechat == b.wechat:
        logit += w["same_wechat"]
    if a.email and a.email == b.email:
        logit += w["same_email"]
    if a.address and a.address == b.address:
        logit += w["same_address"]
    if a.employer and a.employer == b.employer:
        logit += w["same_employer"]
    logit += _name_evidence(a.keys, b.keys, stats)[0]
    if a.district and b.district:
        logit += w["same_district"] if a.district == b.district else w["other_district"]
    if a.community and a.community == b.community:
        logit += w["same_community"]
    if a.birthday and b.birthday:
        logit += w[_birthday_code(a.birthday, b.birthday)]
    if a.gender and b.gender and a.gender != b.gender:
        logit += w["other_gender"]
    if a.households and b.households and any(b.households.get(h, r) != r for h, r in a.households.items()):
        logit += w["household_members"]
    return logit


def _block_keys(p: Person) -> Iterator[str]:
    """Every blocking key of one customer (a prefix names the kind)."""
    if p.mobile:
        yield "p" + p.mobile
    if p.other_phone and p.other_phone != p.mobile:
        yield "p" + p.other_phone
    if p.id_number:
        yield "i" + p.id_number
    if p.email:
        yield "e" + p.email
    if p.wechat:
        yield "w" + p.wechat
    if p.address:
        yield "a" + p.address
    keys = p.keys
    if keys.fuzzy:
        yield "n" + keys.fuzzy
    if not keys.han and keys.ordered and keys.ordered.replace(" ", "") != keys.fuzzy:
        yield "n" + keys.ordered.replace(" ", "")
    if p.birthday and keys.surname:
        yield f"b{keys.surname}{p.birthday.isoformat()}"


# How an oversized block is split, in turn: by area, surname, the name's sound, birthday; a
# name block (whose members share surname and sound already) by area, community, birthday.
_SPLITTERS: tuple[Callable[[Person], Any], ...] = (
    lambda p: p.area,
    lambda p: p.keys.surname,
    lambda p: p.keys.fuzzy,
    lambda p: p.birthday,
)
_NAME_SPLITTERS: tuple[Callable[[Person], Any], ...] = (
    lambda p: p.area,
    lambda p: p.community,
    lambda p: p.birthday,
)


def _split(
    people: dict[int, Person],
    members: list[int],
    level: int = 0,
    limit: int = MAX_BLOCK,
    splitters: tuple[Callable[[Person], Any], ...] = _SPLITTERS,
) -> tuple[list[list[int]], int]:
    """``members`` as blocks of at most ``limit`` (split by ``splitters`` from ``level`` on), and
    how many groups were dropped as still too big."""
    if len(members) <= limit:
        return [members], 0
    if level >= len(splitters):
        return [], 1
    key = splitters[level]
    groups: dict[Any, list[int]] = defaultdict(list)
    for cid in members:
        groups[key(people[cid])].append(cid)
    out: list[list[int]] = []
    dropped = 0
    for group in groups.values():
        if len(group) > 1:
            parts, lost = _split(people, group, level + 1, limit, splitters)
            out.extend(parts)
            dropped += lost
    return out, dropped


_NO_SHARED: dict[str, str] = {}  # the value of the many pairs sharing no registered evidence (never written)


def candidate_pairs(
    people: dict[int, Person], related: Iterable[tuple[int, str, str]]
) -> tuple[dict[tuple[int, int], dict[str, str]], int]:
    """Pairs to score (lower id first) with the registered evidence they share (code → key), and
    how many blocks were split (a part still too big after every split is dropped)."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for cid, p in people.items():
        for key in _block_keys(p):
            blocks[key].append(cid)
    shared: dict[tuple[str, str], set[int]] = defaultdict(set)
    for cid, code, key in related:
        if key and cid in people:
            shared[(code, key)].add(cid)
    pairs: dict[tuple[int, int], dict[str, str]] = {}
    split = 0

    def pair_up(members: list[int], code: str | None, key: str) -> None:
        nonlocal split
        groups = [members]
        weak = key[0] in "nb"
        limit = MAX_NAME_BLOCK if weak else MAX_BLOCK
        if len(members) > limit:
            split += 1
            groups, _dropped = _split(people, members, limit=limit, splitters=_NAME_SPLITTERS if weak else _SPLITTERS)
        setdefault = pairs.setdefault
        for group in groups:
            group = sorted(group)
            for i, left in enumerate(group):
                for right in group[i + 1 :]:
                    if code is None:
                        setdefault((left, right), _NO_SHARED)
                        continue
                    found = pairs.get((left, right))
                    if found is None or found is _NO_SHARED:
                        found = pairs[(left, right)] = {}
                    found[code] = key[1:]

    for bkey, members in blocks.items():
        if len(members) > 1:
            pair_up(members, None, bkey)
    for (code, key), vmembers in shared.items():  # (no sort: 50,000 keys a store, most of one member)
        if len(vmembers) > 1:
            pair_up(list(vmembers), code, "v" + key)
    return pairs, split


def find_in_rows(
    people: dict[int, Person],
    related: Iterable[tuple[int, str, str]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    stats: NameStats | None = None,
) -> tuple[list[tuple[int, int, float, list[dict[str, Any]]]], int, int]:
    """The pure part of the finder: ``([(a, b, score, reasons)], candidates, split blocks)``.
    ``related`` holds the registered evidence: ``(customer id, code, key)``."""
    if stats is None:
        stats = NameStats(())
        for p in people.values():
            stats.add(p.keys)
    pairs, split = candidate_pairs(people, related)
    found = []
    floor = math.log(threshold / (1 - threshold)) - 1e-9 if threshold < 1 else math.inf
    for (left, right), shared in pairs.items():
        a, b = people[left], people[right]
        if a.kind != b.kind:
            continue  # a person and a company are never one record
        if quick_logit(a, b, shared, stats) < floor:
            continue
        score, reasons = score_pair(a, b, shared, stats)
        if score >= threshold:
            found.append((left, right, round(score, 4), reasons))
    return found, len(pairs), split


def load_rows(store_id: int) -> tuple[dict[int, Person], list[tuple[int, str, str]]]:
    """The store's live customers, and ``(customer id, evidence code, key)`` from every
    registered evidence source (keys of merged-away customers are ignored by the blocking)."""
    base = Customer.objects.filter(store_id=store_id, merged_into__isnull=True)
    people = {row[0]: Person(*row) for row in base.values_list(*_COLUMNS).iterator(chunk_size=5000)}
    links = HouseholdMember.objects.filter(store_id=store_id).values_list("customer_id", "household_id", "relation")
    for cid, household, relation in links.iterator(chunk_size=5000):
        p = people.get(cid)
        if p is not None:
            if p.households is None:
                p.households = {}
            p.households[household] = relation
    related: list[tuple[int, str, str]] = []
    for source in EVIDENCE_SOURCES.entries():
        related.extend(source.load(store_id))
    return people, related


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


# --- the on-entry check -------------------------------------------------------------------------

# A record typed on the create or edit page is offered the existing customers scoring at least
# this (lower than the batch threshold: a warning costs one click, a missed duplicate a record).
ENTRY_THRESHOLD = 0.5
ENTRY_CANDIDATES = 50  # customers fetched by the indexed keys before scoring
_STATS_TTL = 600  # seconds a store's name frequencies are reused by the entry check
_SMALL_STORE = 5000  # below this the frequencies are counted on every check
# A big store's frequencies are counted by one process and kept in the shared cache for the
# others (reading and normalising 600,000 names is seconds of a request); each process keeps
# the copy it read until the time the counts were made plus the TTL.
_STATS_KEY = "dedup:name-stats:v1:%s"
_STATS_CACHE: dict[int, tuple[float, NameStats]] = {}  # store → (counted at, stats): this process's copy
_STATS_COUNTING = 120  # seconds another process waits on a count under way before counting itself
_clock = time.time  # wall time: the processes sharing the cache compare it


def store_name_stats(store_id: int) -> NameStats:
    """The store's name frequencies for the entry check: counted afresh for a store under
    5,000 customers (a few milliseconds); for a bigger one (whose frequencies a few new records
    do not move) counted at most once per ten minutes by one process, kept in the shared cache
    (zlib-compressed pickled counts, :mod:`autocrm.core.cache`) and in each process's memory."""
    now = _clock()
    cached = _STATS_CACHE.get(store_id)
    if cached is not None and now - cached[0] < _STATS_TTL:
        return cached[1]
    from autocrm.core.cache import shared_cache

    cache, key = shared_cache(), _STATS_KEY % store_id
    shared = _stats_load(cache.get(key))
    if shared is not None and now - shared[0] < _STATS_TTL:
        _stats_keep(store_id, shared)
        return shared[1]
    if cached is not None and not cache.add(f"{key}:counting", 1, timeout=_STATS_COUNTING):
        return cached[1]  # another process is counting: the copy this one has serves meanwhile
    live = Customer.objects.filter(store_id=store_id, merged_into__isnull=True)
    stats = NameStats(live.values_list("name", flat=True).iterator(chunk_size=5000))
    if stats.total >= _SMALL_STORE:
        payload = zlib.compress(pickle.dumps((now, stats.counts()), protocol=pickle.HIGHEST_PROTOCOL), 1)
        cache.set(key, payload, timeout=_STATS_TTL)
        cache.delete(f"{key}:counting")
        _stats_keep(store_id, (now, stats))
    return stats


def _stats_load(payload: Any) -> tuple[float, NameStats] | None:
    """What :func:`store_name_stats` put in the shared cache, or None (missing or unreadable)."""
    if not isinstance(payload, bytes):
        return None
    try:
        at, counts = pickle.loads(zlib.decompress(payload))  # noqa: S301 - written by this module only
        return float(at), NameStats.from_counts(counts)
    except Exception:  # a damaged entry is counted again
        return None


def _stats_keep(store_id: int, entry: tuple[float, NameStats]) -> None:
    if len(_STATS_CACHE) > 1000:
        _STATS_CACHE.clear()
    _STATS_CACHE[store_id] = entry


def _blind(name: str) -> BlindIndexField:
    found: Any = Customer._meta.get_field(name)
    return cast(BlindIndexField, found)


def _typed_person(cleaned: Mapping[str, Any]) -> Person:
    text = {k: str(cleaned.get(k) or "") for k in ("name", "kind", "district", "city", "community", "gender",
                                                    "mobile", "other_phones", "id_number", "email", "wechat_id",
                                                    "address", "employer")}  # fmt: skip
    return Person(
        0, text["name"], text["kind"], text["district"], text["city"], text["community"], cleaned.get("birthday"),
        text["gender"], _blind("mobile_index").compute(text["mobile"]),
        _blind("other_phone_index").compute(text["other_phones"]), _blind("id_number_index").compute(text["id_number"]),
        text["email"], text["wechat_id"], _blind("address_key").compute(text["address"]), text["employer"],
    )  # fmt: skip


# Evidence that two records are two people: a namesake with any of it is not warned about.
_AGAINST = frozenset({"other_id_number", "other_birthday", "other_gender", "household_members"})


def entry_matches(
    *, store_id: int, cleaned: Mapping[str, Any], exclude_id: int | None = None, limit: int = 10
) -> list[tuple[int, float, list[dict[str, Any]]]]:
    """The store's live customers that look like the record being typed, best first:
    ``[(customer id, score, reasons)]`` — the same normalisation and evidence as the batch finder.

    Candidates come from indexed keys only: any typed phone against the mobiles and other phones,
    the ID number, the street + number of the address, the pinyin of the normalised name (劉 萍平
    → liupingping: traditional, spaced and homophone spellings alike). Each is then scored as
    the finder would score the pair. Offered: the same mobile or ID number (always), a score of
    at least :data:`ENTRY_THRESHOLD`, or — as before, in a store of fewer than 5,000 customers,
    too few to learn how common a name is — the same name in the same district unless
    the name is common in the store or something says they are two people (another birthday,
    ID number or gender): two 张伟 in one district are not warned about each other."""
    from django.db.models import Q

    from autocrm.core import crypto
    from autocrm.core.normalize import normalize_mobile, normalize_other_phone

    probe = _typed_person(cleaned)
    condition = Q()  # the identifying keys
    phones = {normalize_mobile(cleaned.get("mobile"))}
    phones |= {normalize_mobile(p) for p in str(cleaned.get("other_phones") or "").split(",")}
    phones.add(normalize_other_phone(cleaned.get("other_phones")))
    for phone in phones - {""}:
        indexes = crypto.blind_index_candidates(phone)
        condition |= Q(mobile_index__in=indexes) | Q(other_phone_index__in=indexes)
    if probe.id_number:
        condition |= Q(**_blind("id_number_index").lookup(cleaned["id_number"]))
    if probe.address:
        condition |= Q(**_blind("address_key").lookup(cleaned["address"]))
    base = Customer.objects.filter(store_id=store_id, merged_into__isnull=True)
    if exclude_id:
        base = base.exclude(pk=exclude_id)
    # The identifying keys and the name are asked separately: a common name (李娜) has hundreds
    # of holders, who must not crowd out the one record with the same mobile or address.
    queries = [base.filter(condition)] if condition else []
    if probe.keys.pinyin:
        by_name = base.filter(name_pinyin=probe.keys.pinyin)
        if probe.district:  # the district as typed, or with its suffix (静安 / 静安区)
            names = {cleaned.get("district") or "", probe.district}
            names |= {probe.district + suffix for suffix in _DIVISION_SUFFIXES}
            by_name = by_name.filter(district__in=names - {""})
        queries.append(by_name)
    if not queries:
        return []
    seen: dict[int, Person] = {}
    for query in queries:
        for row in query.order_by("-id").values_list(*_COLUMNS)[:ENTRY_CANDIDATES]:
            seen.setdefault(row[0], Person(*row))
    people = list(seen.values())
    if not people:
        return []
    stats = store_name_stats(store_id) if probe.keys.normal else _EMPTY_STATS
    offered = []
    for p in people:
        if probe.kind and p.kind and probe.kind != p.kind:
            continue
        score, reasons = score_pair(p, probe, stats=stats)
        strong = bool(
            (probe.mobile and p.mobile == probe.mobile) or (probe.id_number and p.id_number == probe.id_number)
        )
        namesake = bool(
            stats.total < _SMALL_STORE  # too few names to learn how common one is: the old rule
            and probe.keys.normal == p.keys.normal
            and probe.district
            and probe.district == p.district
            and not stats.is_common(probe.keys)
            and not any(r["code"] in _AGAINST for r in reasons)
        )
        if strong or namesake or score >= ENTRY_THRESHOLD:
            offered.append((p.id, score + (1 if strong else 0), reasons))
    offered.sort(key=lambda item: (-item[1], -item[0]))
    return [(cid, min(score, 1.0), reasons) for cid, score, reasons in offered[:limit]]


def score_customers(
    store_id: int, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], tuple[float, list[dict[str, Any]]]]:
    """Score given pairs of one store's customers as the batch finder would (their household links
    and the store's name frequencies included) — for callers that know the pairs already, such
    as an import queueing rows of one person. Pairs whose customers are missing are left out."""
    wanted = {(min(a, b), max(a, b)) for a, b in pairs}
    pks = {pk for pair in wanted for pk in pair}
    if not pks:
        return {}
    rows = Customer.objects.filter(store_id=store_id, pk__in=pks).values_list(*_COLUMNS)
    people = {row[0]: Person(*row) for row in rows}
    links = HouseholdMember.objects.filter(store_id=store_id, customer_id__in=pks)
    for cid, household, relation in links.values_list("customer_id", "household_id", "relation"):
        if (p := people.get(cid)) is not None:
            p.households = {**(p.households or {}), household: relation}
    stats = store_name_stats(store_id)
    return {(a, b): score_pair(people[a], people[b], (), stats) for a, b in wanted if a in people and b in people}
