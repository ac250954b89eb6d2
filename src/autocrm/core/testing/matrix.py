"""The inherited role × scope security matrix (CONVENTIONS rule 8, NetBox-style).

An app's ``tests/test_multistore.py`` declares its surface — the records it can build and every
URL and API operation with the model and action it needs — in a subclass of
:class:`MultistoreMatrix`; everything else is inherited:

* for every role of :class:`~autocrm.core.roles.Role` × every operation, the operation is called
  as that role (a demo login working in store a) on four records: the actor's own, a colleague's
  (same store, another owner), another store's, and a missing id; the status must be exactly
  what :func:`autocrm.core.permissions.rule_table` says (:func:`expected_status`): the success
  status, 403, or 404;
* every 403 must have written an ``authz.denied`` audit event;
* "another store" and "missing" answer 404 with the same bytes (CSRF tokens and the requested
  path masked in pages);
* every URL of the app's namespaces and every API path under its prefixes is declared, or
  exempted with a reason, so a new page cannot skip the matrix.

The expectation is computed from the rule table alone, never by asking the engine: if a table
grants what a view does not enforce, or a view allows what the table does not grant, the two
disagree and the test names the role, operation and record.

Data is built once per class inside one transaction that is rolled back at the end (each test
runs in a savepoint within it); pages are opened with ``force_login`` and the API with tokens
made directly, never through the login form (rate limit, lock-out).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, reverse

from autocrm.core.permissions import Grant, Scope, rule_table
from autocrm.core.roles import Role

KINDS = ("own", "colleague", "other_store", "missing")
MISSING_PK = 987654321

# The demo login that acts for each role (all working in store a), the colleague who owns the
# "colleague" records, and the owner of the other store's records.
ACTOR_OF_ROLE: dict[str, str] = {
    Role.SALES: "sales_a1",
    Role.ADVISOR: "advisor_a1",
    Role.AGENT: "agent_a1",
    Role.MARKETING: "marketing_a1",
    Role.SALES_MANAGER: "sales_manager_a",
    Role.SERVICE_MANAGER: "service_manager_a",
    Role.TECHNICIAN: "tech_a1",
    Role.FINANCE: "finance_a1",
    Role.MANAGER: "manager_a",
    Role.DIRECTOR: "director",
    Role.ADMIN: "admin",
}
COLLEAGUE = "sales_a2"
OTHER_STORE_OWNER = "sales_b1"
HOME_STORE, OTHER_STORE = "a", "b"

Need = tuple[str, str]  # (model key, action)


@dataclass(frozen=True)
class Op:
    """One URL or API operation and what it needs.

    ``target`` is a URL name (``"customers:customer_detail"``) or, with ``api=True``, a path under
    /api/v1 with ``{pk}`` for the record (``"/customers/{pk}/reveal?field=mobile"``). ``model`` and
    ``action`` are what the rule table must grant; a record operation is given the pk of a record
    of ``model`` (built by the class's ``builders``). ``any_of`` lists other (model, action) pairs
    any one of which also allows it (a page shown to importers or exporters); ``through`` lists
    models whose rows the record hangs on that must be visible too (a duplicate pair is seen only
    when both its customers are). ``fresh`` builds new records for this operation because it
    changes them (dismissing a pair). ``also_needs`` lists (model, action) pairs the role must
    hold as well (a transfer's owner search needs ``view`` on customers too), else 403. ``data``
    may be a callable ``(world, role) -> dict`` when each call needs its own values (a new VIN)."""

    target: str
    model: str
    action: str
    method: str = "GET"
    record: bool = True
    api: bool = False
    data: Mapping[str, Any] | Callable[[Any, str], Mapping[str, Any]] | None = None
    args: tuple[Any, ...] = ()
    ok: int = 200
    any_of: tuple[Need, ...] = ()
    through: tuple[str, ...] = ()
    also_needs: tuple[Need, ...] = ()
    fresh: bool = False
    # The view refuses a role without ``action`` on the model before it looks the record up: 403
    # for every record, the missing one included (the administrators' pages).
    gate: bool = False
    # Why an allowed call may still write authz.denied (a page asking a service whether a button
    # applies); empty: it must not. Each one is a bug to fix where it says.
    known_spurious_denial: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.target}"


# --- the expectation, from the rule table alone -------------------------------------------------


def covers(grant: Grant | None, kind: str, *, owned: bool) -> bool:
    """Does ``grant``'s scope reach a record of ``kind``? ``owned``: the model has an owner field."""
    if grant is None or kind == "missing":
        return False
    if kind == "other_store":
        return grant.scope is Scope.ORGANIZATION
    # a colleague's record is out of an owner scope (own, own-or-unassigned) when the model has owners
    return not (kind == "colleague" and owned and grant.scope in (Scope.OWN, Scope.OWN_OR_UNASSIGNED))


def _grant(table: Mapping[str, Mapping[str, Grant]], model: str, role: str) -> Grant | None:
    return table.get(model, {}).get(role)


def _has(table: Mapping[str, Mapping[str, Grant]], need: Need, role: str) -> bool:
    grant = _grant(table, need[0], role)
    return grant is not None and need[1] in grant.actions


def _owned(model: str) -> bool:
    return getattr(apps.get_model(model), "scope_owner_field", None) is not None


def visible(table: Mapping[str, Mapping[str, Grant]], op: Op, role: str, kind: str) -> bool:
    """The record can be seen: ``view`` on its model (and on every ``through`` model) reaches it."""
    for model in (op.model, *op.through):
        grant = _grant(table, model, role)
        if grant is None or "view" not in grant.actions or not covers(grant, kind, owned=_owned(model)):
            return False
    return True


def expected_status(table: Mapping[str, Mapping[str, Grant]], op: Op, role: str, kind: str | None) -> int:
    """What the rule table says ``role`` gets from ``op`` on a record of ``kind`` (None: no record)."""
    if not op.record:
        allowed = _has(table, (op.model, op.action), role) or any(_has(table, n, role) for n in op.any_of)
        return op.ok if allowed and all(_has(table, n, role) for n in op.also_needs) else 403
    assert kind is not None
    if op.gate and not _has(table, (op.model, op.action), role):
        return 403
    if not visible(table, op, role, kind):
        return 404
    if not all(_has(table, n, role) for n in op.also_needs):
        return 403
    if op.action == "view":
        return op.ok
    grant = _grant(table, op.model, role)
    if grant is not None and op.action in grant.actions and covers(grant, kind, owned=_owned(op.model)):
        return op.ok
    if any(_has(table, n, role) for n in op.any_of):
        return op.ok
    return 403


# --- the world: logins, clients, records --------------------------------------------------------

Builder = Callable[[Any, Any], Any]  # (store, owner user) -> a saved record


@dataclass
class World:
    stores: dict[str, Any]
    users: dict[str, Any]
    clients: dict[str, Client] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    records: dict[tuple[str, str, str], Any] = field(default_factory=dict)  # (model, role, kind) -> row

    def owner(self, role: str, kind: str) -> Any:
        if kind == "own":
            return self.users[ACTOR_OF_ROLE[role]]
        return self.users[COLLEAGUE if kind == "colleague" else OTHER_STORE_OWNER]

    def store_of(self, kind: str) -> Any:
        return self.stores[OTHER_STORE if kind == "other_store" else HOME_STORE]


def _build_world(builders: Mapping[str, Builder], roles: Iterable[str]) -> World:
    from autocrm.accounts.models import User
    from autocrm.accounts.services import token_issue_session
    from autocrm.core import audit
    from autocrm.demo.services import demo_create
    from autocrm.tenancy.models import Store

    demo_create()
    world = World(
        stores={s.code: s for s in Store.objects.filter(code__in=(HOME_STORE, OTHER_STORE))},
        users={u.username: u for u in User.objects.all()},
    )
    for role in roles:
        user = world.users[ACTOR_OF_ROLE[role]]
        client = Client(raise_request_exception=False)  # a 500 is a status like any other here
        client.force_login(user)
        world.clients[role] = client
        world.tokens[role] = token_issue_session(user=user)[1]
    with audit.acting_as(None):
        for model, build in builders.items():
            for role in roles:
                for kind in KINDS[:3]:
                    world.records[(model, role, kind)] = build(world.store_of(kind), world.owner(role, kind))
    return world


# --- responses ----------------------------------------------------------------------------------

_CSRF = re.compile(rb'(csrfmiddlewaretoken" value="|csrf-token" content="|"X-CSRFToken": ")[^"]*')


def normalized(body: bytes, path: str) -> bytes:
    """A 404 body with what legitimately differs between two requests masked: the requested path
    (echoed by the language switch) and the per-request CSRF token."""
    body = body.replace(path.encode(), b"<path>").replace(path.split("?")[0].encode(), b"<path>")
    return _CSRF.sub(rb"\1<csrf>", body)


def _denials() -> int:
    return apps.get_model("audit", "AuditEvent").objects.filter(action="authz.denied").count()


class MultistoreMatrix:
    """Base of every app's ``TestXMultistore``: set ``builders``, ``ops`` and ``namespaces`` /
    ``api_prefixes`` (with ``exempt`` for what is deliberately outside the matrix, each with its
    reason). Not collected itself (its name does not start with ``Test``)."""

    builders: Mapping[str, Builder] = {}
    ops: Sequence[Op] = ()
    namespaces: Sequence[str] = ()  # URL namespaces whose every URL must be declared
    api_prefixes: Sequence[str] = ()  # API paths under /api/v1 whose every operation must be declared
    exempt: Mapping[str, str] = {}  # "namespace:url_name" or "METHOD /api/path" -> why it is not here
    roles: Sequence[str] = tuple(Role.values)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.ops:
            return

        @pytest.mark.django_db
        @pytest.mark.parametrize("op", list(cls.ops), ids=[op.id for op in cls.ops])
        @pytest.mark.parametrize("role", list(cls.roles))
        def test_role_scope_matrix(self: MultistoreMatrix, matrix_world: World, role: str, op: Op) -> None:
            self.check(matrix_world, role, op)

        cls.test_role_scope_matrix = test_role_scope_matrix  # type: ignore[attr-defined]

    @pytest.fixture(scope="class")
    @classmethod
    def matrix_world(cls, django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                yield _build_world(cls.builders, cls.roles)
            finally:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)

    # --- one role × one operation ------------------------------------------------------------

    def record_for(self, world: World, op: Op, role: str, kind: str) -> Any:
        if op.fresh:
            from autocrm.core import audit

            with audit.acting_as(None):
                return self.builders[op.model](world.store_of(kind), world.owner(role, kind))
        return world.records[(op.model, role, kind)]

    def url(self, op: Op, pk: Any) -> str:
        if op.api:
            return "/api/v1" + op.target.replace("{pk}", str(pk))
        return reverse(op.target, args=[*op.args, pk] if op.record else list(op.args))

    def call(self, world: World, role: str, op: Op, url: str) -> Any:
        client = world.clients[role]
        # Flash messages of an earlier call would show on the next page (a 404 included).
        client.cookies.pop("messages", None)
        data = dict(op.data(world, role) if callable(op.data) else op.data or {})
        if op.api:
            headers = {"Authorization": f"Bearer {world.tokens[role]}"}
            method = getattr(client, op.method.lower())
            if op.method == "GET":
                return method(url, headers=headers)
            return method(url, data=data, content_type="application/json", headers=headers)
        if op.method == "GET":
            return client.get(url, data)
        return client.post(url, data)

    def check(self, world: World, role: str, op: Op) -> None:
        table = rule_table()
        for need in (op.model, *op.through, *(n[0] for n in op.any_of)):
            assert need in table, f"{op.id}: {need} has no rule table"
        problems: list[str] = []
        kinds: tuple[str | None, ...] = KINDS if op.record else (None,)
        bodies: dict[str, tuple[bytes, str]] = {}
        for kind in kinds:
            pk = None
            if kind == "missing":
                pk = MISSING_PK
            elif kind is not None:
                pk = self.record_for(world, op, role, kind).pk
            url = self.url(op, pk)
            before = _denials()
            response = self.call(world, role, op, url)
            want = expected_status(table, op, role, kind)
            label = f"{role} {op.id} on {kind or 'the collection'}"
            if response.status_code != want:
                problems.append(f"{label}: {response.status_code}, the rule table says {want}")
            elif want == 403 and _denials() == before:
                problems.append(f"{label}: 403 without an authz.denied audit event")
            elif want == op.ok and _denials() != before and not op.known_spurious_denial:
                problems.append(f"{label}: allowed, yet an authz.denied audit event was written")
            if kind in ("other_store", "missing") and response.status_code == 404:
                bodies[kind] = (normalized(response.content, url), url)
        if len(bodies) == 2 and bodies["other_store"][0] != bodies["missing"][0]:
            problems.append(f"{role} {op.id}: the other store's 404 differs from a missing record's")
        assert not problems, "\n".join(problems)

    # --- completeness -------------------------------------------------------------------------

    def test_every_url_and_api_operation_is_declared(self) -> None:
        declared = {op.target for op in self.ops if not op.api}
        missing = [name for name in url_names(self.namespaces) if name not in declared and name not in self.exempt]
        declared_api = {(op.method, _pk_path("/api/v1" + op.target.split("?")[0])) for op in self.ops if op.api}
        for method, path in api_operations(self.api_prefixes):
            if (method, _pk_path(path)) not in declared_api and f"{method} {path}" not in self.exempt:
                missing.append(f"{method} {path}")
        assert not missing, f"not in the matrix (declare them in ops, or exempt them with a reason): {missing}"

    def test_every_role_has_a_demo_login(self) -> None:
        assert set(ACTOR_OF_ROLE) == set(Role.values)


def url_names(namespaces: Iterable[str]) -> list[str]:
    names = []
    resolver = get_resolver()
    for namespace in namespaces:
        _prefix, sub = resolver.namespace_dict[namespace]
        for key in sub.reverse_dict:
            if isinstance(key, str):
                names.append(f"{namespace}:{key}")
    return sorted(set(names))


def api_operations(prefixes: Iterable[str]) -> list[tuple[str, str]]:
    """(METHOD, path) of every API operation whose path starts with one of ``prefixes``."""
    from autocrm.config.api import api

    out = []
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        if not any(path == "/api/v1" + p or path.startswith("/api/v1" + p + "/") for p in prefixes):
            continue
        for method in methods:
            out.append((method.upper(), path))
    return sorted(out)


def _pk_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{pk}", path)
