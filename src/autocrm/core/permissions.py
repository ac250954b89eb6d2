"""The permission engine: one point where role × model × action × scope is decided.

Each app's ``permissions.py`` declares data — a rule table — with :func:`register`:

    register("customers.customer", {
        Role.SALES:   ("view add change reveal", Scope.OWN),
        Role.MANAGER: ("view add change delete reveal export", Scope.STORE),
    }, fields={"cost_price": {Role.SALES: Access.HIDDEN}})

``for_actor`` (on every tenant queryset), ``can`` and ``get_in_scope`` read the table, so the UI,
the API and background tasks share one rule. Out of scope is 404 like a missing row; in scope
but not allowed is 403 with an ``authz.denied`` audit event.

A child row reached only through its parent (a consent through its customer, an odometer reading
through its vehicle) has no table of its own: :func:`follow_parent` makes it follow the parent's
rule — reading it needs the parent's read action, writing it (add, change, delete) the parent's
``change``. Its owner is found through the parent (``scope_owner_field = "customer__consultant"``).

Denials are audited: an object-level one by :func:`require` each time, a model-level one (the
role lacks the action on the model altogether) by :func:`restrict` once per request per model and
action. :func:`can` is a question (menus and buttons ask it on every page) and records nothing;
the code that turns its "no" into a 403 is audited by the 403 handlers (``audit.denied_once``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from . import audit
from .errors import NotFound, PermissionDenied
from .roles import Role

if TYPE_CHECKING:
    from .actor import Actor

M = TypeVar("M", bound=models.Model)
QS = TypeVar("QS", bound=models.QuerySet[Any])


class Scope(enum.StrEnum):
    # A model names its owner with ``scope_owner_field``, a field or a path through parents
    # (``customer__consultant``), so child rows follow their parent's owner.
    OWN = "own"  # rows whose owner field is the actor, in the current store
    OWN_OR_UNASSIGNED = "own_or_unassigned"  # own rows plus rows with no owner, in the current store
    STORE = "store"  # every row of the current store
    ORGANIZATION = "organization"  # every row of every store of the organization


class Access(enum.StrEnum):
    FULL = "full"
    MASKED = "masked"
    HIDDEN = "hidden"


READ_ACTIONS = frozenset({"view", "export"})


@dataclass(frozen=True)
class Grant:
    actions: frozenset[str]
    scope: Scope


_RULES: dict[str, dict[str, Grant]] = {}
_FIELDS: dict[str, dict[str, dict[str, Access]]] = {}
_RESOURCES: dict[str, str] = {}
_PARENTS: dict[str, str] = {}  # child model key -> parent model key (follow_parent)
# (model key, role, anonymous, names) -> ((name, masker or None), ...) of the fields not hidden
# (visible_fields); emptied whenever the rule tables change (register, follow_parent).
_PLANS: dict[tuple[str, str | None, bool, tuple[str, ...]], tuple[tuple[str, Any], ...]] = {}
WRITE_ON_PARENT = "change"  # the parent's action a write of a child row needs


def model_key(model: type[models.Model] | models.Model) -> str:
    return model._meta.label_lower


def register(
    model: str,
    grants: Mapping[Role, tuple[str, Scope]] | Mapping[str, tuple[str, Scope]],
    *,
    fields: Mapping[str, Mapping[Role, Access] | Mapping[str, Access]] | None = None,
    resource: str | None = None,
) -> None:
    """Declare a model's rule table. ``resource`` names the API token scope (``customers`` →
    ``customers:read`` / ``customers:write``); it defaults to the app label."""
    key = model.lower()
    _RULES[key] = {str(role): Grant(frozenset(actions.split()), scope) for role, (actions, scope) in grants.items()}
    _FIELDS[key] = {name: {str(r): a for r, a in per_role.items()} for name, per_role in (fields or {}).items()}
    _RESOURCES[key] = resource or key.split(".")[0]
    _PLANS.clear()


def follow_parent(model: str, parent: str) -> None:
    """Declare that ``model``'s rows follow ``parent``'s rule table instead of having their own
    (the token resource is the parent's too)."""
    key = model.lower()
    _PARENTS[key] = parent.lower()
    _RULES.pop(key, None)
    _FIELDS.pop(key, None)
    _RESOURCES.pop(key, None)
    _PLANS.clear()


def parent_of(key: str) -> str | None:
    return _PARENTS.get(key)


def parent_action(action: str) -> str:
    """The parent's action that a child's ``action`` needs."""
    return action if action in READ_ACTIONS else WRITE_ON_PARENT


def _child_grant(parent: Grant) -> Grant:
    actions = set(parent.actions & READ_ACTIONS)
    if WRITE_ON_PARENT in parent.actions:
        actions |= {"add", "change", "delete"}
    return Grant(frozenset(actions), parent.scope)


def _grants(key: str) -> dict[str, Grant]:
    parent = _PARENTS.get(key)
    if parent is None:
        return _RULES.get(key, {})
    return {role: _child_grant(grant) for role, grant in _grants(parent).items()}


def rule_table() -> dict[str, dict[str, Grant]]:
    """The whole table, for the admin's role overview and for tests; a child model that follows
    its parent appears with the grants it inherits."""
    return {k: dict(_grants(k)) for k in sorted({*_RULES, *_PARENTS})}


def token_allows(actor: Actor, key: str, action: str) -> bool:
    if actor.token_scopes is None or "*" in actor.token_scopes:
        return True
    key = _root(key)
    resource = _RESOURCES.get(key, key.split(".")[0])
    needed = f"{resource}:{'read' if action in READ_ACTIONS else 'write'}"
    return needed in actor.token_scopes or f"{resource}:*" in actor.token_scopes


def scope_for(actor: Actor, model: type[models.Model] | models.Model, action: str) -> Scope | None:
    """The scope within which ``actor`` may do ``action`` on ``model``; None when not at all."""
    if actor is None or actor.role is None or actor.store_id is None:
        return None
    key = model_key(model)
    grant = _grants(key).get(actor.role)
    if grant is None or action not in grant.actions:
        return None
    if not token_allows(actor, key, action):
        return None
    return grant.scope


def _root(key: str) -> str:
    while key in _PARENTS:
        key = _PARENTS[key]
    return key


def owner_field(model: type[models.Model] | models.Model) -> str | None:
    return getattr(model, "scope_owner_field", None)


def store_ids_for(actor: Actor, scope: Scope) -> tuple[int, ...]:
    if scope is Scope.ORGANIZATION:
        return actor.organization_store_ids
    return (actor.store_id,) if actor.store_id is not None else ()


def restrict(queryset: QS, actor: Actor, action: str) -> QS:
    """Narrow ``queryset`` to the rows ``actor`` may ``action``: the store rule, then the scope."""
    model = queryset.model
    scope = scope_for(actor, model, action)
    if scope is None:
        if actor is not None:
            audit.denied_once(actor=actor, object_type=model_key(model), action=action)
        return queryset.none()
    store_field = getattr(model, "scope_store_field", "store")
    ids = store_ids_for(actor, scope)
    if len(ids) == 1:
        queryset = queryset.filter(**{f"{store_field}_id": ids[0]} if store_field != "pk" else {"pk": ids[0]})
    else:
        queryset = queryset.filter(**({f"{store_field}_id__in": ids} if store_field != "pk" else {"pk__in": ids}))
    owner = owner_field(model)
    if owner and scope is Scope.OWN:
        queryset = queryset.filter(**{f"{owner}_id": actor.user_id})
    elif owner and scope is Scope.OWN_OR_UNASSIGNED:
        queryset = queryset.filter(
            models.Q(**{f"{owner}_id": actor.user_id}) | models.Q(**{f"{owner}_id__isnull": True})
        )
    return queryset


def in_scope(actor: Actor, obj: models.Model, action: str) -> bool:
    """The in-memory twin of :func:`restrict` for one loaded row (no query)."""
    scope = scope_for(actor, obj, action)
    if scope is None:
        return False
    store_field = getattr(obj, "scope_store_field", "store")
    store_id = obj.pk if store_field == "pk" else getattr(obj, f"{store_field}_id")
    if store_id not in store_ids_for(actor, scope):
        return False
    owner = owner_field(obj)
    if owner and scope is Scope.OWN:
        return _owner_id(obj, owner) == actor.user_id
    if owner and scope is Scope.OWN_OR_UNASSIGNED:
        return _owner_id(obj, owner) in (None, actor.user_id)
    return True


def _owner_id(obj: models.Model, owner: str) -> int | None:
    """Follow ``customer__consultant`` style paths: child rows take their parent's owner."""
    *path, last = owner.split("__")
    target: Any = obj
    for part in path:
        target = getattr(target, part)
        if target is None:
            return None
    owner_id: int | None = getattr(target, f"{last}_id")
    return owner_id


def can(actor: Actor | None, action: str, obj: models.Model | type[models.Model]) -> bool:
    """May ``actor`` do ``action`` on this row (or, given a model class, on some row of it)?

    Templates use the same function to hide buttons; hiding is never the check."""
    if actor is None:
        return False
    if isinstance(obj, type):
        return scope_for(actor, obj, action) is not None
    return in_scope(actor, obj, action)


def require(actor: Actor, action: str, obj: models.Model) -> None:
    """Raise 403 (and audit it) unless ``actor`` may ``action`` on ``obj``, which must already be
    known to be visible to the actor."""
    if not in_scope(actor, obj, action):
        audit.denied(actor=actor, obj=obj, action=action)
        raise PermissionDenied()


def require_model(actor: Actor | None, action: str, model: type[models.Model]) -> Scope:
    """The scope of ``action`` on ``model`` for ``actor``; 403 (audited once per request) when the
    role lacks the action on the model altogether. Selectors and services of collections (lists,
    reports, "run the finder") start with it, so the API and the pages refuse alike."""
    scope = scope_for(actor, model, action) if actor is not None else None
    if scope is None:
        if actor is not None:
            audit.denied_once(actor=actor, object_type=model_key(model), action=action)
        raise PermissionDenied()
    return scope


def get_in_scope(model: type[M] | models.QuerySet[M], actor: Actor, pk: Any, action: str = "view") -> M:
    """Fetch one row by primary key for ``action`` (``model`` may be a queryset carrying
    ``select_related``/``prefetch_related``).

    Not visible to the actor (other store, other consultant's, or missing) → :class:`NotFound`,
    identical in every case. Visible but ``action`` not allowed → :class:`PermissionDenied`.
    """
    queryset = model if isinstance(model, models.QuerySet) else model._default_manager.all()
    try:
        obj = restrict(queryset, actor, "view").get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):  # every model's DoesNotExist is one
        raise NotFound() from None
    if action != "view":
        require(actor, action, obj)
    return obj


def field_access(actor: Actor | None, model: type[models.Model] | models.Model, field: str) -> Access:
    """How ``actor`` sees one field. Sensitive (encrypted) fields default to masked; other fields
    default to full unless the rule table hides them for the role."""
    key = model_key(model)
    configured = _FIELDS.get(key, {}).get(field, {})
    role = actor.role if actor is not None else None
    if role in configured:
        return configured[role]
    if actor is None:
        return Access.HIDDEN
    model_field = model._meta.get_field(field)
    return Access.MASKED if getattr(model_field, "sensitive", False) else Access.FULL


def present(actor: Actor | None, obj: models.Model, field: str) -> Any:
    """The value of ``field`` as ``actor`` may see it: full, masked, or None when hidden."""
    access = field_access(actor, obj, field)
    if access is Access.HIDDEN:
        return None
    value = getattr(obj, field)
    if access is Access.MASKED:
        masker = getattr(obj._meta.get_field(field), "mask", None)
        return masker(value) if masker and value else value
    return value


def _plan(actor: Actor | None, obj: models.Model, names: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    key = (model_key(obj), actor.role if actor is not None else None, actor is None, names)
    plan = _PLANS.get(key)
    if plan is None:
        steps = []
        for name in names:
            access = field_access(actor, obj, name)
            if access is Access.HIDDEN:
                continue
            masker = getattr(obj._meta.get_field(name), "mask", None) if access is Access.MASKED else None
            steps.append((name, masker))
        plan = _PLANS[key] = tuple(steps)
    return plan


def visible_fields(actor: Actor | None, obj: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """``{name: value}`` of the fields of ``obj`` the actor may see, each as :func:`present`
    gives it (masked where the role sees it masked); hidden fields are left out. The access of
    each field is worked out once per model, role and list of names, not on every row."""
    out = {}
    for name, masker in _plan(actor, obj, tuple(names)):
        value = getattr(obj, name)
        out[name] = masker(value) if masker is not None and value else value
    return out
