"""Customers in the import engine (``autocrm.imports``): the field table, the row cleaner and the
batch writer of the customer import; everything else (files, mapping, dry run, commit modes,
progress, the worker, the report) is the engine's.

Rows are validated with ``customers.services.customer_clean``; duplicates inside the file are
refused by the engine's ``mark_repeats`` and against the store through the blind indexes of
mobile and ID number. A row whose ``external_id`` already exists updates that customer, so
re-importing a DMS export is safe. New customers are written by COPY with their encryption,
blind indexes (once per row, shared with the duplicate check) and pinyin keys computed in
Python, and staged by the dry run on PostgreSQL (docs/adr/0004); each gets a timeline event.
Registered from ``CustomersConfig.ready``.
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

from autocrm.core import bulk, crypto
from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.models import model_field
from autocrm.core.permissions import Scope, can, scope_for
from autocrm.imports.importing import (
    FieldSpec,
    Importer,
    Row,
    Staged,
    cell_date,
    cell_text,
    choice_value,
    mark_repeats,
    register_importer,
)
from autocrm.imports.models import ImportJob
from autocrm.tenancy.models import Store

from .choices import CustomerKind, Gender, SourceChannel
from .models import Customer, TimelineEvent
from .search import customer_search_keys
from .services import customer_clean_checked

_GENDER_EXTRA = {"男": "male", "女": "female", "m": "male", "f": "female", "未知": ""}
_KIND_EXTRA = {"个人": "person", "企业": "company", "公司": "company", "单位": "company", "对公": "company"}
_SOURCE_EXTRA = {"展厅": "walk_in", "到店": "walk_in", "自然到店": "walk_in", "电话": "phone", "dms": "dms"}


@dataclass
class _CustomerContext:
    actor: Actor
    job: ImportJob
    store_id: int
    today: dt.date
    now: dt.datetime
    seen: dict[str, dict[str, int]] = field(default_factory=lambda: {"external_id": {}, "mobile": {}, "id_number": {}})
    mobile_field: Any = None
    id_field: Any = None
    summary: str = ""
    change_scope: Scope | None = None
    default_kind: str = CustomerKind.PERSON.value
    normalizers: dict[str, Any] = field(default_factory=dict)
    default_city: str = ""  # the store's: an address naming no city is read as one of it
    ids: bulk.IdPool = field(default_factory=lambda: bulk.IdPool(Customer))


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
    )  # fmt: skip

    def start(self, *, actor: Actor, job: ImportJob, today: dt.date) -> _CustomerContext:
        mobile_field: Any = Customer._meta.get_field("mobile_index")
        id_field: Any = Customer._meta.get_field("id_number_index")
        return _CustomerContext(
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
        )

    _CELLS: dict[str, Any] = {
        "birthday": cell_date,
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

    def check_batch(self, ctx: _CustomerContext, rows: list[Row]) -> None:
        for row in rows:
            data = self._prepare(row.raw)
            data.setdefault("name", "")
            try:
                cleaned, warnings = customer_clean_checked(data, today=ctx.today, default_city=ctx.default_city)
            except ValidationError as exc:
                for name, messages in exc.fields.items():
                    for message in messages:
                        row.fail(name, message)
                continue
            row.cleaned = cleaned
            if warnings:
                row.warnings += warnings
            mark_repeats(row, ctx.seen)
        self._match_store(ctx, [r for r in rows if r.ok])

    def _match_store(self, ctx: _CustomerContext, rows: list[Row]) -> None:
        """Duplicates against the store: ``external_id`` → the row updates that customer; the
        same mobile or ID number on another customer → the row is refused (one customer, one record)."""
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
        if ext_ids:  # excluding "" matches the partial unique index
            queries.append(
                Customer.objects.filter(store_id=ctx.store_id, external_id__any_of=ext_ids).exclude(external_id="")
            )
        if mobiles:
            queries.append(blind_matches("mobile_index", mobiles))
        if ids:
            queries.append(blind_matches("id_number_index", ids))
        found_by_pk: dict[int, _Found] = {}
        for query in queries:
            for values in query.values_list(*_FOUND):
                rec = _Found._make(values)
                if rec.store_id == ctx.store_id:
                    found_by_pk[rec.id] = rec
        by_ext: dict[str, _Found] = {}
        by_value: dict[tuple[str, str], list[_Found]] = {}
        for rec in found_by_pk.values():
            if rec.external_id:
                by_ext[rec.external_id] = rec
            for index in (rec.mobile_index, rec.id_number_index):
                if index and index in by_index:
                    by_value.setdefault(by_index[index], []).append(rec)
        for row in rows:
            c = row.cleaned or {}
            target = None
            found = by_ext.get(c.get("external_id") or "")
            if found is not None:
                target = found.merged_into_id or found.id  # a merged-away record: update its survivor
                if not self._may_change(ctx, found):
                    row.fail("external_id", _("You may not change the existing customer with this external ID."))
                    continue
                row.target_id = target
                if found.merged_into_id:
                    row.extra["keep_external_id"] = True
            for name in ("mobile", "id_number"):
                if not by_value or not c.get(name):
                    continue
                others = [
                    r
                    for r in by_value.get((name, ctx.normalizers[name](c[name])), [])
                    if r.merged_into_id is None and r.id != target
                ]
                if others:
                    message = (
                        _("A customer with this mobile already exists in this store (customer %(id)s).")
                        if name == "mobile"
                        else _("A customer with this ID number already exists in this store (customer %(id)s).")
                    )
                    row.fail(name, message % {"id": others[0].id})

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
        new = [
            _NewRow(r.cleaned or {}, r.extra.get("mobile_index"), r.extra.get("id_number_index"))
            for r in rows
            if not r.target_id
        ]
        ids = ctx.ids.take(len(new)) if bulk.copy_supported() else None
        return _prepare_new_customers(self._spec(ctx), new, ids)

    @staticmethod
    def _spec(ctx: _CustomerContext) -> _NewCustomers:
        return _NewCustomers(ctx.store_id, ctx.default_kind, ctx.now, ctx.summary[:300], str(ctx.job.pk))

    def _events(self, ctx: _CustomerContext, ids: list[int] | None, kind: str) -> bulk.Prepared | None:
        return _timeline(self._spec(ctx), ids, kind)

    def stage_start(self, ctx: _CustomerContext) -> dict[str, Any] | None:
        return {"marker": ctx.now.isoformat()} if bulk.copy_supported() else None

    def stage_batch(self, ctx: _CustomerContext, rows: list[Row], prepared: _Prepared | None) -> Staged | None:
        """New customers only (a row updating a customer is written from the customer as it is at
        commit), with the blind indexes and external IDs the commit looks for again."""
        if prepared is None or prepared.events is None or any(r.target_id for r in rows):
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
        if keys["external_id"] and in_store.filter(external_id__any_of=set(keys["external_id"])).exists():
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
        update_rows = [r for r in rows if r.target_id]
        updated: list[Customer] = []
        if update_rows:
            changes = []
            for row in update_rows:
                values = dict(row.cleaned or {})
                if row.extra.get("keep_external_id"):
                    values.pop("external_id", None)
                changes.append((row, values))
            names: set[str] = set().union(*(v for _r, v in changes))
            every_row = set.intersection(*(set(v) for _r, v in changes))
            # Only what the update reads or keeps: the search keys' sources, the keys themselves,
            # and the fields some rows set and others leave as they are. Loading whole customers
            # decrypted every protected field (6.5 s of 9 s per 100,000 updates).
            load = {"kind", "name", "name_pinyin", "name_initials", "mobile_last4", "mobile_index", "id_number_index"}
            # The ids as one parameter (any_of): a thousand placeholders cost more than the query.
            wanted = Customer.objects.only(*(load | (names - every_row)))
            existing = {c.pk: c for c in wanted.filter(pk__any_of={r.target_id for r, _v in changes})}
            for row, values in changes:
                customer = existing.get(row.target_id)  # type: ignore[arg-type]
                if customer is None:
                    continue
                for name, value in values.items():
                    setattr(customer, name, value)
                if values.keys() & {"name", "kind", "mobile"}:  # the search keys of what changed
                    pinyin, initials, last4 = customer_search_keys(
                        customer.kind, customer.name, values.get("mobile", "")
                    )
                    if values.keys() & {"name", "kind"}:
                        customer.name_pinyin, customer.name_initials = pinyin, initials
                    if "mobile" in values:
                        customer.mobile_last4 = last4
                if "mobile" in values:
                    customer.mobile_index = self._indexes(ctx, row, values)["mobile_index"]
                if "id_number" in values:
                    customer.id_number_index = self._indexes(ctx, row, values)["id_number_index"]
                customer.updated_at = ctx.now
                updated.append(customer)
            if updated:
                names |= {"name_pinyin", "name_initials", "mobile_last4", "mobile_index", "id_number_index"}
                names.add("updated_at")
                bulk.update_instances(Customer, updated, sorted(names))  # COPY + UPDATE … FROM on PostgreSQL
        if updated:
            bulk.write_prepared(self._events(ctx, [c.pk for c in updated], "customer.import_updated"))  # type: ignore[arg-type]
        return len(created_ids), len(updated)


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
