"""Customers in the import engine (``autocrm.imports``): the field table, the row cleaner and the
batch writer of the customer import; everything else (files, mapping, dry run, commit modes,
progress, the worker, the report) is the engine's.

Rows are validated with ``customers.services.customer_clean``. Nothing is refused for being a
duplicate; the dry run's two choices decide (``CustomerImporter.choices``):

* rows of one file that are the same person (the same external ID, ID number, mobile, email,
  WeChat ID or USCC, or the same name, birthday and district) are **merged** — the later row fills
  the blanks of the first row's customer, a different mobile is kept as an other phone, its
  external ID as an alias (``CustomerExternalId``) — or **queued**: each row its own customer and
  the pair in the review queue with the finder's score and reasons (``dedup.score_pair``);
* a row matching a customer of the store by ID number or mobile **fills that customer's
  blanks**, **changes its values** (the old mobile kept as an other phone), or becomes a new
  customer **queued for review** beside it. A match the actor may not change is always queued.

A row whose ``external_id`` (or an alias of it) exists updates that customer with the file's
values, so re-importing a DMS export is safe, also after merges. The consultant and advisor
columns name a staff member of the store by name or login. New customers are written by COPY
with their encryption, blind indexes (once per row, shared with the duplicate check) and pinyin
keys computed in Python, and staged by the dry run on PostgreSQL (docs/adr/0004) when no row of
the batch updates, merges or queues; each gets a timeline event. Registered from
``CustomersConfig.ready``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.accounts.models import Membership
from autocrm.core import bulk, crypto
from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.models import model_field
from autocrm.core.permissions import Scope, can, scope_for
from autocrm.core.roles import ADVISOR_ROLES, CONSULTANT_ROLES, Role
from autocrm.imports.importing import (
    FieldSpec,
    ImportChoice,
    Importer,
    Row,
    Staged,
    cell_date,
    cell_text,
    choice_value,
    job_choices,
    register_importer,
)
from autocrm.imports.models import ImportJob
from autocrm.tenancy.models import Store

from . import dedup
from .choices import CustomerKind, DuplicateStatus, Gender, SourceChannel
from .models import Customer, CustomerExternalId, DuplicatePair, TimelineEvent
from .search import customer_search_keys
from .services import customer_clean_checked

_GENDER_EXTRA = {"男": "male", "女": "female", "m": "male", "f": "female", "未知": ""}
_KIND_EXTRA = {"个人": "person", "企业": "company", "公司": "company", "单位": "company", "对公": "company"}
_SOURCE_EXTRA = {"展厅": "walk_in", "到店": "walk_in", "自然到店": "walk_in", "电话": "phone", "dms": "dms"}

# The dry run's choices (``job.mapping["choices"]``; the first option is the default).
IN_FILE, EXISTING = "in_file", "existing"
MERGE, REVIEW, FILL, CHANGE = "merge", "review", "fill", "change"
DMS = "dms"  # how a row found by its external ID updates: the file's values, as a DMS re-export
# Keys naming one person inside a file, strongest first (the reason a repeat is reported with).
_FILE_KEYS = ("external_id", "id_number", "uscc", "mobile", "email", "wechat_id", "person")
_EXACT_KEYS, _FOLDED_KEYS = _FILE_KEYS[:4], _FILE_KEYS[4:6]  # compared as written; trimmed and lower-cased
_KEY_REASONS = {
    "external_id": "same_external_id", "id_number": "same_id_number", "uscc": "same_uscc", "mobile": "same_mobile",
    "email": "same_email", "wechat_id": "same_wechat", "person": "same_name",
}  # fmt: skip
_KEY_LABELS: dict[str, Any] = {
    "external_id": _("the same external ID"),
    "id_number": _("the same ID number"),
    "uscc": _("the same unified social credit code"),
    "mobile": _("the same mobile"),
    "email": _("the same email"),
    "wechat_id": _("the same WeChat ID"),
    "person": _("the same name, birthday and district"),
}
_STAFF_FIELDS = {"consultant": CONSULTANT_ROLES, "advisor": ADVISOR_ROLES}


@dataclass
class _CustomerContext:
    actor: Actor
    job: ImportJob
    store_id: int
    today: dt.date
    now: dt.datetime
    seen: dict[str, dict[str, int]] = field(default_factory=lambda: {k: {} for k in _FILE_KEYS})
    mobile_field: Any = None
    id_field: Any = None
    summary: str = ""
    change_scope: Scope | None = None
    default_kind: str = CustomerKind.PERSON.value
    normalizers: dict[str, Any] = field(default_factory=dict)
    default_city: str = ""  # the store's: an address naming no city is read as one of it
    ids: bulk.IdPool = field(default_factory=lambda: bulk.IdPool(Customer))
    choices: dict[str, str] = field(default_factory=dict)
    # The customer each row became or updates, by row number (for the rows folded into it).
    row_ids: dict[int, int] = field(default_factory=dict)
    # Customers this run created: the file's own rows, matched by the file's memory (``seen``),
    # not as customers of the store (the check may run ahead of the writes, on another connection).
    created: set[int] = field(default_factory=set)
    id_numbers: dict[int, str] = field(default_factory=dict)  # of rows the name+birthday key names
    counts: dict[str, int] = field(default_factory=lambda: {IN_FILE: 0, EXISTING: 0})
    # Staff of the store: login → user id, compact name → user ids, user id → roles.
    logins: dict[str, int] = field(default_factory=dict)
    names: dict[str, set[int]] = field(default_factory=dict)
    roles: dict[int, set[str]] = field(default_factory=dict)


class _Found(NamedTuple):
    """A customer of the store that a batch's external IDs or blind indexes matched."""

    id: int
    external_id: str
    mobile_index: str
    id_number_index: str
    merged_into_id: int | None
    consultant_id: int | None
    store_id: int


_FOUND = _Found._fields


class _NewRow(NamedTuple):
    """A valid row that creates a customer, with the blind indexes its duplicate check computed."""

    cleaned: dict[str, Any]
    mobile_index: str | None
    id_number_index: str | None


class _Prepared(NamedTuple):
    """A batch's new customers ready to COPY and, when their ids are known, their timeline events."""

    customers: bulk.Prepared
    events: bulk.Prepared | None


def _compact(text: str) -> str:
    return "".join(str(text).split()).lower()


def _creates(row: Row) -> bool:
    """The row becomes a new customer (neither updating one nor folded into an earlier row)."""
    return not row.target_id and not row.same_as


class CustomerImporter(Importer):
    model = Customer
    fields = (
        FieldSpec("name", _("name"), ("姓名", "客户姓名", "客户名称", "名称", "客户", "name", "customer name", "full name"), required=True),
        FieldSpec("mobile", _("mobile"), ("手机", "手机号", "手机号码", "联系电话", "电话", "移动电话", "联系方式", "mobile", "phone", "mobile phone", "cell phone")),
        FieldSpec("kind", _("kind"), ("客户类型", "类型", "kind", "customer type")),
        FieldSpec("id_number", _("ID number"), ("身份证号", "身份证", "身份证号码", "证件号码", "证件号", "id number", "id card", "id_number")),
        FieldSpec("uscc", _("unified social credit code"), ("统一社会信用代码", "信用代码", "uscc")),
        FieldSpec("gender", _("gender"), ("性别", "gender", "sex")),
        FieldSpec("birthday", _("birthday"), ("生日", "出生日期", "birthday", "birth date", "date of birth")),
        FieldSpec("licence_expiry", _("driving licence expiry"),
                  ("驾驶证有效期", "驾照到期", "驾驶证到期日", "licence expiry", "driving licence expiry")),
        FieldSpec("province", _("province"), ("省", "省份", "province")),
        FieldSpec("city", _("city"), ("市", "城市", "city")),
        FieldSpec("district", _("district"), ("区", "区县", "区/县", "district", "county")),
        FieldSpec("address", _("street address"), ("详细地址", "地址", "住址", "联系地址", "address", "street address")),
        FieldSpec("community", _("residential community"), ("小区", "community")),
        FieldSpec("email", _("email"), ("邮箱", "电子邮箱", "邮件", "email", "e-mail")),
        FieldSpec("wechat_id", _("WeChat ID"), ("微信", "微信号", "wechat", "wechat id")),
        FieldSpec("other_phones", _("other phones"), ("其他电话", "备用电话", "other phones")),
        FieldSpec("occupation", _("occupation"), ("职业", "occupation")),
        FieldSpec("employer", _("employer"), ("工作单位", "单位名称", "employer")),
        FieldSpec("source_channel", _("source channel"), ("来源", "客户来源", "来源渠道", "source", "source channel")),
        FieldSpec("external_id", _("external ID"), ("外部编号", "DMS编号", "DMS客户编号", "客户编号", "外部ID", "external id", "external_id", "dms id")),
        FieldSpec("consultant", _("sales consultant"), ("销售顾问", "顾问", "销售", "负责人", "跟进人", "consultant", "sales consultant", "salesperson")),
        FieldSpec("advisor", _("service advisor"), ("服务顾问", "售后顾问", "advisor", "service advisor")),
    )  # fmt: skip
    choices = (
        ImportChoice(
            IN_FILE,
            _("Rows of the same person in this file"),
            ((MERGE, _("Merge rows of the same person")), (REVIEW, _("Put them in the review queue"))),
            count_key=IN_FILE,
        ),
        ImportChoice(
            EXISTING,
            _("Rows that match a customer already in the store"),
            (
                (FILL, _("Update the customer: fill blanks")),
                (CHANGE, _("Update the customer: change values")),
                (REVIEW, _("Put them in the review queue")),
            ),
            count_key=EXISTING,
        ),
    )

    def start(self, *, actor: Actor, job: ImportJob, today: dt.date) -> _CustomerContext:
        mobile_field: Any = Customer._meta.get_field("mobile_index")
        id_field: Any = Customer._meta.get_field("id_number_index")
        ctx = _CustomerContext(
            actor=actor,
            job=job,
            store_id=actor.require_store_id(),
            today=today,
            now=timezone.now(),
            mobile_field=mobile_field,
            id_field=id_field,
            summary=gettext("Imported from %(file)s") % {"file": job.original_name},
            change_scope=scope_for(actor, Customer, "change"),
            default_kind=model_field(Customer, "kind").get_default(),
            normalizers={"mobile": mobile_field.normalizer, "id_number": id_field.normalizer},
            default_city=Store.objects.filter(pk=actor.require_store_id()).values_list("city", flat=True).first() or "",
            choices=job_choices(job),
        )
        if _STAFF_FIELDS.keys() & set((job.mapping or {}).get("columns") or {}):
            self._load_staff(ctx)
        return ctx

    @staticmethod
    def _load_staff(ctx: _CustomerContext) -> None:
        """The store's active staff (its own memberships only: another store's people are unknown)."""
        members = Membership.objects.filter(store_id=ctx.store_id, is_active=True).values_list(
            "user_id", "role", "user__username", "user__display_name", "user__first_name", "user__last_name",
            "user__is_active",
        )  # fmt: skip
        for uid, role, login, display, first, last, active in members:
            if not active:
                continue
            ctx.roles.setdefault(uid, set()).add(role)
            ctx.logins[login.lower()] = uid
            for name in {display, last + first, first + last} - {""}:
                ctx.names.setdefault(_compact(name), set()).add(uid)

    def counts(self, ctx: _CustomerContext) -> dict[str, int]:
        return dict(ctx.counts)

    _CELLS: dict[str, Any] = {
        "birthday": cell_date,
        "licence_expiry": cell_date,
        "gender": lambda v: choice_value(Gender, v, _GENDER_EXTRA),
        "kind": lambda v: choice_value(CustomerKind, v, _KIND_EXTRA),
        "source_channel": lambda v: choice_value(SourceChannel, v, _SOURCE_EXTRA),
    }

    @classmethod
    def _prepare(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        cells = cls._CELLS
        for name, value in raw.items():
            convert = cells.get(name)
            value = cell_text(value) if convert is None else convert(value)
            if (value == "" or value is None) and name != "name":
                continue  # an empty cell leaves the field as it is (or at its default)
            data[name] = value
        return data

    def clean_job(self, ctx: _CustomerContext) -> tuple[Any, Any]:
        return _clean_rows, _CleanSpec(ctx.today, ctx.default_city)

    def check_batch(self, ctx: _CustomerContext, rows: list[Row], precleaned: list[Any] | None = None) -> None:
        if precleaned is None:
            precleaned = _clean_rows(_CleanSpec(ctx.today, ctx.default_city), [r.raw for r in rows])
        for row, (cleaned, warnings, errors, staff) in zip(rows, precleaned, strict=True):
            if errors:
                row.errors += errors
                continue
            row.cleaned = cleaned
            if warnings:
                row.warnings += warnings
            for name, text in staff.items():
                self._staff(ctx, row, name, text)
            if ctx.actor.role == Role.SALES:  # as on entry: a sales consultant's customers are theirs
                cleaned.setdefault("consultant_id", ctx.actor.user_id)
        self._match_store(ctx, [r for r in rows if r.ok])
        self._match_file(ctx, [r for r in rows if r.ok])

    @staticmethod
    def _staff(ctx: _CustomerContext, row: Row, name: str, text: str) -> None:
        """``consultant``/``advisor`` by login or name: a member of this store with the field's
        role. Unknown → a warning (the field stays empty); a name two staff share → an error."""
        uid = ctx.logins.get(text.lower())
        if uid is None:
            uids = ctx.names.get(_compact(text), set())
            if len(uids) > 1:
                row.fail(name, _("More than one staff member of this store is called %(name)s: use their login.")
                         % {"name": text})  # fmt: skip
                return
            uid = next(iter(uids), None)
        if uid is None:
            row.warnings.append((name, gettext("No staff member of this store is called %(name)s or signs in as "
                                               "it; the field is left empty.") % {"name": text}))  # fmt: skip
            return
        if not ctx.roles.get(uid, set()) & set(_STAFF_FIELDS[name]):
            message = (
                _("%(name)s is not a sales consultant or manager of this store; the field is left empty.")
                if name == "consultant"
                else _("%(name)s is not a service advisor or manager of this store; the field is left empty.")
            )
            row.warnings.append((name, str(message) % {"name": text}))
            return
        if name == "consultant" and ctx.actor.role == Role.SALES and uid != ctx.actor.user_id:
            row.fail(name, _("You may assign the customers you import only to yourself."))
            return
        (row.cleaned or {})[f"{name}_id"] = uid

    def _match_store(self, ctx: _CustomerContext, rows: list[Row]) -> None:
        """Matches in the store. ``external_id`` (or an alias of it) → the row updates that
        customer with the file's values. The same ID number or mobile as a customer → filled,
        changed or queued as the user chose (queued when the actor may not change that customer)."""
        if not rows:
            return
        by_index: dict[str, tuple[str, str]] = {}  # blind index candidate → (field, normalised value)
        ext_ids = set()
        for row in rows:
            c = row.cleaned or {}
            if c.get("external_id"):
                ext_ids.add(c["external_id"])
            for name in ("mobile", "id_number"):
                if c.get(name):
                    normalised = ctx.normalizers[name](c[name])
                    if not normalised:
                        continue
                    candidates = crypto.blind_index_candidates(normalised)
                    row.extra[f"{name}_normalised"] = normalised  # (normalising a mobile costs ~10 µs)
                    row.extra[f"{name}_index"] = candidates[0]  # the active key's: what the write stores
                    row.extra[f"{name}_candidates"] = candidates
                    for candidate in candidates:
                        by_index[candidate] = (name, normalised)
        # One query per index (an OR of the three makes PostgreSQL scan the store's rows), each with
        # its values as one parameter (``any_of``: a batch's 2,000 placeholders cost more than the
        # query). The blind-index queries leave the store to Python: given the choice, a planner
        # with the statistics of a table that was empty before the import walks the store's rows
        # (the whole file, as the import fills it) instead of probing the index.
        mobiles = {k for k, (n, _v) in by_index.items() if n == "mobile"}
        ids = {k for k, (n, _v) in by_index.items() if n == "id_number"}
        queries: list[QuerySet[Customer]] = []
        aliases: dict[str, int] = {}
        if ext_ids:  # excluding "" matches the partial unique index
            queries.append(
                Customer.objects.filter(store_id=ctx.store_id, external_id__any_of=ext_ids).exclude(external_id="")
            )
            aliases = dict(
                CustomerExternalId.objects.filter(store_id=ctx.store_id, external_id__any_of=ext_ids).values_list(
                    "external_id", "customer_id"
                )
            )
            if aliases:
                queries.append(Customer.objects.filter(store_id=ctx.store_id, pk__any_of=set(aliases.values())))
        if mobiles:
            queries.append(blind_matches("mobile_index", mobiles))
        if ids:
            queries.append(blind_matches("id_number_index", ids))
        found_by_pk: dict[int, _Found] = {}
        for query in queries:
            for values in query.values_list(*_FOUND):
                rec = _Found._make(values)
                if rec.store_id == ctx.store_id and rec.id not in ctx.created:
                    found_by_pk[rec.id] = rec
        by_ext: dict[str, _Found] = {}
        by_value: dict[tuple[str, str], list[_Found]] = {}
        for rec in found_by_pk.values():
            if rec.external_id:
                by_ext[rec.external_id] = rec
            for index in (rec.mobile_index, rec.id_number_index):
                if index and index in by_index:
                    by_value.setdefault(by_index[index], []).append(rec)
        for ext, pk in aliases.items():
            if pk in found_by_pk:
                by_ext[ext] = found_by_pk[pk]  # an alias names the customer that carries it
        for row in rows:
            c = row.cleaned or {}
            target = None
            ext = c.get("external_id") or ""
            found = by_ext.get(ext)
            if found is not None:
                target = found.merged_into_id or found.id  # a merged-away record: update its survivor
                if not self._may_change(ctx, found):
                    row.fail("external_id", _("You may not change the existing customer with this external ID."))
                    continue
                row.target_id = target
                # By its own key the file's values win (a DMS re-export); by an alias or through a
                # merged-away record it fills blanks, and the external ID stays an alias.
                aliased = found.merged_into_id is not None or found.external_id != ext
                row.extra["update"] = FILL if aliased else DMS
                if aliased:
                    row.extra["keep_external_id"] = True
            matches: list[tuple[_Found, str]] = []
            for name in ("id_number", "mobile"):  # the stronger evidence first
                normalised = row.extra.get(f"{name}_normalised")
                if not by_value or not normalised:
                    continue
                for r in by_value.get((name, normalised), []):
                    if r.merged_into_id is None and r.id != target and all(r.id != m.id for m, _n in matches):
                        matches.append((r, name))
            if not matches:
                if target:
                    ctx.row_ids[row.number] = target
                continue
            ctx.counts[EXISTING] += 1
            choice = ctx.choices.get(EXISTING, FILL)
            if target is None and choice != REVIEW and self._may_change(ctx, matches[0][0]):
                rec, name = matches[0]
                target = row.target_id = rec.id
                row.extra["update"] = choice
                message = (
                    gettext("Same person as customer %(id)s (%(reason)s): its blanks are filled from this row.")
                    if choice == FILL
                    else gettext("Same person as customer %(id)s (%(reason)s): its values are changed to this row's.")
                )
                row.warnings.append((name, message % {"id": rec.id, "reason": _KEY_LABELS[name]}))
                matches = matches[1:]
            for rec, name in matches:  # the rest: a pair for a reviewer
                row.queued = True
                row.extra.setdefault("pair_customers", []).append((rec.id, _KEY_REASONS[name]))
                row.warnings.append((name, gettext("Looks like customer %(id)s (%(reason)s): queued for review.")
                                     % {"id": rec.id, "reason": _KEY_LABELS[name]}))  # fmt: skip
            if target:
                ctx.row_ids[row.number] = target

    @staticmethod
    def _file_keys(c: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The row's keys in ``_FILE_KEYS`` order (strongest first)."""
        get = c.get
        keys = [(name, value) for name in _EXACT_KEYS if (value := get(name))]
        for name in _FOLDED_KEYS:
            if value := get(name):
                keys.append((name, value.strip().lower()))
        if get("birthday") and get("district") and get("kind", CustomerKind.PERSON) == CustomerKind.PERSON:
            keys.append(("person", f"{_compact(get('name', ''))}|{c['birthday']}|{c['district']}"))
        return keys

    def _match_file(self, ctx: _CustomerContext, rows: list[Row]) -> None:
        """Rows of one person in the file: the later row is folded into the first one's customer
        (merge) or becomes its own customer with the pair queued (review). The same external ID
        twice is always one record (it is the other system's key)."""
        choice = ctx.choices.get(IN_FILE, MERGE)
        seen = ctx.seen
        for row in rows:
            c = row.cleaned or {}
            keys = self._file_keys(c)
            first = reason = None
            for name, value in keys:
                first = seen[name].get(value)
                if first is not None and name == "person" and c.get("id_number"):
                    other = ctx.id_numbers.get(first, "")
                    if other and other != c["id_number"]:
                        first = None  # two valid ID numbers are two people, whatever else they share
                if first is not None:
                    reason = name
                    break
            if first is None or reason is None:
                for name, value in keys:
                    seen[name].setdefault(value, row.number)
                if c.get("id_number") and c.get("birthday"):
                    ctx.id_numbers[row.number] = c["id_number"]
                continue
            for name, value in keys:  # later rows of this person find the first row by any key
                seen[name].setdefault(value, first)
            if row.target_id and ctx.row_ids.get(first) == row.target_id:
                continue  # both rows update the same customer already (a re-import after a merge)
            ctx.counts[IN_FILE] += 1
            label = _KEY_LABELS[reason]
            where = "name" if reason == "person" else reason
            if (choice == MERGE or reason == "external_id") and not row.target_id:
                row.same_as = first
                row.warnings.append((where, gettext("Same person as row %(row)s (%(reason)s): merged into one "
                                                     "customer.") % {"row": first, "reason": label}))  # fmt: skip
            else:
                row.queued = True
                row.extra.setdefault("pair_rows", []).append((first, _KEY_REASONS[reason]))
                row.warnings.append((where, gettext("Looks like row %(row)s (%(reason)s): both kept, queued for "
                                                     "review.") % {"row": first, "reason": label}))  # fmt: skip

    @staticmethod
    def _may_change(ctx: _CustomerContext, rec: _Found) -> bool:
        if ctx.change_scope in (Scope.STORE, Scope.ORGANIZATION):
            return True  # the row is in the actor's store (the lookup is filtered by it)
        probe = Customer(pk=rec.id, store_id=ctx.store_id, consultant_id=rec.consultant_id)
        return can(ctx.actor, "change", probe)

    @staticmethod
    def _indexes(ctx: _CustomerContext, row: Row, values: Mapping[str, Any]) -> dict[str, str]:
        """Blind indexes of the row, reusing those the duplicate check computed."""
        return {
            "mobile_index": row.extra.get("mobile_index") or ctx.mobile_field.compute(values.get("mobile")),
            "id_number_index": row.extra.get("id_number_index") or ctx.id_field.compute(values.get("id_number")),
        }

    def prepare_batch(self, ctx: _CustomerContext, rows: list[Row]) -> _Prepared:
        """The new customers ready to COPY (ids drawn, search keys, blind indexes, encryption) and,
        once their ids are known, their timeline events."""
        function, spec, payload = self.prepare_job(ctx, rows)
        return function(spec, payload)  # type: ignore[no-any-return]

    def prepare_job(self, ctx: _CustomerContext, rows: list[Row]) -> tuple[Any, Any, Any]:
        new = [
            _NewRow(r.cleaned or {}, r.extra.get("mobile_index"), r.extra.get("id_number_index"))
            for r in rows
            if _creates(r)
        ]
        ids = ctx.ids.take(len(new)) if bulk.copy_supported() else None  # drawn here: the pool has no database
        return _prepare_job, self._spec(ctx), (new, ids)

    @staticmethod
    def _spec(ctx: _CustomerContext) -> _NewCustomers:
        return _NewCustomers(ctx.store_id, ctx.default_kind, ctx.now, ctx.summary[:300], str(ctx.job.pk))

    def _events(self, ctx: _CustomerContext, ids: list[int] | None, kind: str) -> bulk.Prepared | None:
        return _timeline(self._spec(ctx), ids, kind)

    def stage_start(self, ctx: _CustomerContext) -> dict[str, Any] | None:
        return {"marker": ctx.now.isoformat()} if bulk.copy_supported() else None

    def stage_batch(self, ctx: _CustomerContext, rows: list[Row], prepared: _Prepared | None) -> Staged | None:
        """New customers only (a row updating, merged into another or queued is written at
        commit, from the customers as they are then), with the blind indexes and external IDs
        the commit looks for again."""
        if prepared is None or prepared.events is None or any(not _creates(r) or r.queued for r in rows):
            return None
        keys: dict[str, list[str]] = {"external_id": [], "mobile_index": [], "id_number_index": []}
        for row in rows:
            if (row.cleaned or {}).get("external_id"):
                keys["external_id"].append(row.cleaned["external_id"])  # type: ignore[index]
            keys["mobile_index"] += row.extra.get("mobile_candidates", [])
            keys["id_number_index"] += row.extra.get("id_number_candidates", [])
        return Staged({"created": len(rows), "keys": keys}, [prepared.customers, prepared.events])

    def stage_conflicts(self, ctx: _CustomerContext, meta: Mapping[str, Any]) -> bool:
        keys = meta["keys"]
        in_store = Customer.objects.filter(store_id=ctx.store_id)
        if keys["external_id"]:
            wanted = set(keys["external_id"])
            if in_store.filter(external_id__any_of=wanted).exists():
                return True
            if CustomerExternalId.objects.filter(store_id=ctx.store_id, external_id__any_of=wanted).exists():
                return True
        for name in ("mobile_index", "id_number_index"):
            # Store checked in Python: see _match_store on the planner and freshly filled tables.
            if keys[name] and ctx.store_id in set(
                blind_matches(name, set(keys[name])).values_list("store_id", flat=True)
            ):
                return True
        return False

    def write_batch(self, ctx: _CustomerContext, rows: list[Row], prepared: _Prepared | None = None) -> tuple[int, int]:
        customers, events = prepared or self.prepare_batch(ctx, rows)
        created_ids = bulk.write_prepared(customers)  # COPY on PostgreSQL
        bulk.write_prepared(events or self._events(ctx, created_ids, "customer.imported"))  # type: ignore[arg-type]
        for row, pk in zip((r for r in rows if _creates(r)), created_ids, strict=True):
            ctx.row_ids[row.number] = pk
        ctx.created.update(created_ids)
        update_rows = []
        for row in rows:
            if row.same_as:  # folded into an earlier row's customer: fill its blanks
                row.target_id = ctx.row_ids.get(row.same_as)
                row.extra["update"] = FILL
                if row.target_id:
                    ctx.row_ids[row.number] = row.target_id
            if row.target_id:
                update_rows.append(row)
        updated = self._update(ctx, update_rows) if update_rows else []
        changed = [c.pk for c in updated if c.pk not in ctx.created]  # a row folded into a new one: "imported"
        if changed:
            bulk.write_prepared(self._events(ctx, changed, "customer.import_updated"))  # type: ignore[arg-type]
        self._queue_pairs(ctx, [r for r in rows if r.queued])
        return len(created_ids), len([r for r in update_rows if not r.same_as])

    def _update(self, ctx: _CustomerContext, update_rows: list[Row]) -> list[Customer]:
        """Apply the rows to the customers they update: the file's values (``dms``, ``change``) or
        only where the customer has none (``fill``). A different mobile is kept as an other phone
        (but a DMS re-export's new mobile replaces the old one); an external ID the customer does
        not carry becomes an alias."""
        changes = []
        for row in update_rows:
            values = dict(row.cleaned or {})
            changes.append((row, values, row.extra.get("update", DMS)))
        names: set[str] = set().union(*(v for _r, v, _m in changes))
        every_row = set.intersection(*(set(v) for _r, v, _m in changes))
        # Only what the update reads or keeps: the search keys' sources, the keys themselves,
        # and the fields some rows set and others leave as they are. Loading whole customers
        # decrypted every protected field (6.5 s of 9 s per 100,000 updates). Filling blanks or
        # keeping an old mobile reads the fields the rows give.
        load = {"kind", "name", "name_pinyin", "name_initials", "mobile_last4", "mobile_index", "id_number_index",
                "address_key", "other_phone_index", "external_id"}  # fmt: skip
        if any(mode != DMS for _r, _v, mode in changes):
            load |= names | {"mobile", "other_phones"}
        fields = {model_field(Customer, n).name for n in load | (names - every_row)}
        # The ids as one parameter (any_of): a thousand placeholders cost more than the query.
        wanted = Customer.objects.only(*fields)
        existing = {c.pk: c for c in wanted.filter(pk__any_of={r.target_id for r, _v, _m in changes})}
        updated: dict[int, Customer] = {}
        aliases: dict[str, int] = {}
        written: set[str] = set()
        for row, values, mode in changes:
            customer = existing.get(row.target_id)  # type: ignore[arg-type]
            if customer is None:
                continue
            ext = values.pop("external_id", "")
            if ext and ext != customer.external_id:
                if customer.external_id or row.extra.get("keep_external_id"):
                    aliases[ext] = customer.pk
                else:
                    values["external_id"] = ext
            if mode != DMS:
                values = _merged_values(customer, values, fill=mode == FILL)
            for name, value in values.items():
                setattr(customer, name, value)
            written |= values.keys()
            if values.keys() & {"name", "kind", "mobile"}:  # the search keys of what changed
                pinyin, initials, last4 = customer_search_keys(customer.kind, customer.name, values.get("mobile", ""))
                if values.keys() & {"name", "kind"}:
                    customer.name_pinyin, customer.name_initials = pinyin, initials
                if "mobile" in values:
                    customer.mobile_last4 = last4
            if "mobile" in values:
                customer.mobile_index = (
                    self._indexes(ctx, row, values)["mobile_index"]
                    if values["mobile"] == (row.cleaned or {}).get("mobile")
                    else ctx.mobile_field.compute(values["mobile"])
                )
            if "id_number" in values:
                customer.id_number_index = self._indexes(ctx, row, values)["id_number_index"]
            for source, index in (("address", "address_key"), ("other_phones", "other_phone_index")):
                if source in values:  # the finder's keys follow the values they are taken from
                    key_field: Any = model_field(Customer, index)  # a BlindIndexField
                    setattr(customer, index, key_field.compute(getattr(customer, source)))
                    written.add(index)
            customer.updated_at = ctx.now
            updated[customer.pk] = customer
        if updated:
            written |= {"name_pinyin", "name_initials", "mobile_last4", "mobile_index", "id_number_index", "updated_at"}
            columns = sorted({model_field(Customer, n).name for n in written})
            bulk.update_instances(Customer, list(updated.values()), columns)  # COPY + UPDATE … FROM on PostgreSQL
        if aliases:
            taken = set(
                CustomerExternalId.objects.filter(store_id=ctx.store_id, external_id__any_of=set(aliases)).values_list(
                    "external_id", flat=True
                )
            )
            CustomerExternalId.objects.bulk_create(
                [
                    CustomerExternalId(store_id=ctx.store_id, customer_id=pk, external_id=ext)
                    for ext, pk in aliases.items()
                    if ext not in taken
                ]
            )
        return list(updated.values())

    @staticmethod
    def _queue_pairs(ctx: _CustomerContext, rows: list[Row]) -> None:
        """The review queue's pairs of the queued rows, scored by the duplicate finder's own
        :func:`dedup.score_pair` (its reasons first, the match the import found added if the
        finder's columns do not show it). Existing pairs are left as they are."""
        wanted: dict[tuple[int, int], str] = {}
        for row in rows:
            mine = ctx.row_ids.get(row.number)
            if mine is None:
                continue
            others = list(row.extra.get("pair_customers", []))
            others += [(ctx.row_ids.get(n), code) for n, code in row.extra.get("pair_rows", [])]
            for other, code in others:
                if other and other != mine:
                    wanted.setdefault((min(mine, other), max(mine, other)), code)
        if not wanted:
            return
        scored = dedup.score_customers(ctx.store_id, wanted)
        known = set(
            DuplicatePair.objects.filter(store_id=ctx.store_id, customer_a_id__in={a for a, _b in wanted})
            .filter(customer_b_id__in={b for _a, b in wanted})
            .values_list("customer_a_id", "customer_b_id")
        )
        new = []
        for (a, b), code in wanted.items():
            if (a, b) in known or (a, b) not in scored:
                continue
            score, reasons = scored[a, b]
            if all(r.get("code") != code for r in reasons):
                reasons.insert(0, {"code": code})
            new.append(DuplicatePair(store_id=ctx.store_id, customer_a_id=a, customer_b_id=b, score=round(score, 4),
                                     reasons=reasons, status=DuplicateStatus.OPEN))  # fmt: skip
        DuplicatePair.objects.bulk_create(new)


def _merged_values(customer: Customer, values: dict[str, Any], *, fill: bool) -> dict[str, Any]:
    """What a row of the same person changes on ``customer``: every value (``fill=False``) or only
    blanks; a mobile that differs is kept — the row's as an other phone when filling, the
    customer's old one when changing — so no number is lost."""
    out: dict[str, Any] = {}
    phones = [p for p in (customer.other_phones or "").split(",") if p]
    for name, value in values.items():
        if name == "other_phones":
            phones += [p for p in value.split(",") if p and p not in phones]
            continue
        if name == "mobile":
            current = customer.mobile or ""
            if current and current != value:
                keep, value = (value, current) if fill else (current, value)
                if keep not in phones:
                    phones.append(keep)
                if fill:
                    continue
            out[name] = value
            continue
        current = getattr(customer, model_field(Customer, name).attname, None)
        if fill and current not in (None, ""):
            continue
        out[name] = value
    phones = [p for p in phones if p != out.get("mobile", customer.mobile)]
    if ",".join(phones) != (customer.other_phones or ""):
        out["other_phones"] = ",".join(phones)
    return out


def blind_matches(name: str, values: set[str]) -> QuerySet[Customer]:
    """Customers of any store whose blind index ``name`` is one of ``values`` (the callers check
    the store in Python: see ``_match_store``). Blind indexes looked up are never blank; saying so
    lets PostgreSQL prove that the partial hash index applies to an array of a thousand values
    (core.fields.EqualityIndex)."""
    return Customer.objects.filter(**{f"{name}__any_of": values}).exclude(**{name: ""})


@dataclass(frozen=True)
class _NewCustomers:
    store_id: int
    default_kind: str
    now: dt.datetime
    summary: str
    job_id: str


@dataclass(frozen=True)
class _CleanSpec:
    today: dt.date
    default_city: str


def _clean_rows(
    spec: _CleanSpec, raws: list[Mapping[str, Any]]
) -> list[tuple[Any, list[Any], list[Any], dict[str, Any]]]:
    """Each raw row cleaned as the customer services clean (``customer_clean_checked``), without
    the database: ``(cleaned or None, warnings, errors, staff cells)`` per row, the messages as
    text. Runs in the dry run's pool for a big file (``CustomerImporter.clean_job``)."""
    out: list[tuple[Any, list[Any], list[Any], dict[str, Any]]] = []
    prepare = CustomerImporter._prepare
    for raw in raws:
        data = prepare(raw)
        data.setdefault("name", "")
        staff = {name: data.pop(name) for name in _STAFF_FIELDS if name in data}
        try:
            cleaned, warnings = customer_clean_checked(data, today=spec.today, default_city=spec.default_city)
        except ValidationError as exc:
            errors = [(name, str(message)) for name, messages in exc.fields.items() for message in messages]
            out.append((None, [], errors, staff))
            continue
        out.append((cleaned, warnings, [], staff))
    return out


def _prepare_job(spec: _NewCustomers, payload: tuple[list[_NewRow], list[int] | None]) -> _Prepared:
    return _prepare_new_customers(spec, *payload)


def _prepare_new_customers(spec: _NewCustomers, new: list[_NewRow], ids: list[int] | None) -> _Prepared:
    """Pure work on validated rows (search keys, blind indexes, encryption, COPY text): no
    database, so it can run beside the checking of the next batch."""
    mobile_field: Any = Customer._meta.get_field("mobile_index")
    id_field: Any = Customer._meta.get_field("id_number_index")
    values_list = []
    for row in new:
        values: dict[str, Any] = {"store_id": spec.store_id, **row.cleaned}
        values["name_pinyin"], values["name_initials"], values["mobile_last4"] = customer_search_keys(
            values.get("kind") or spec.default_kind, values.get("name", ""), values.get("mobile", "")
        )
        values["mobile_index"] = row.mobile_index or mobile_field.compute(values.get("mobile"))
        values["id_number_index"] = row.id_number_index or id_field.compute(values.get("id_number"))
        values_list.append(values)
    customers = bulk.prepare_rows(Customer, values_list, now=spec.now, ids=ids)
    return _Prepared(customers, _timeline(spec, customers.ids, "customer.imported"))


def _timeline(spec: _NewCustomers, ids: list[int] | None, kind: str) -> bulk.Prepared | None:
    if ids is None:
        return None
    event = {"store_id": spec.store_id, "kind": kind, "at": spec.now, "summary": spec.summary,
             "object_type": ImportJob._meta.label_lower, "object_id": spec.job_id}  # fmt: skip
    return bulk.prepare_repeated(TimelineEvent, event, "customer_id", ids, now=spec.now)


def register() -> None:
    """Called from ``CustomersConfig.ready``."""
    register_importer("customers", CustomerImporter(), order=10)
