"""Modules switched on per store (轻量化起步: a store can start small).

A *module* is a product area a store may switch off: leads & sales, after-sales, care, … .
Customers and vehicles are master data and always on (their apps declare no module).

- Each module is a :class:`Module` in the ``modules`` registry (the catalogue below, or
  ``register_module`` for one outside it).
- Each app of a module names it in its ``AppConfig``: ``module_key = "sales"`` (not ``module``:
  Django's ``AppConfig.module`` is the app's Python package). Several apps may
  share one module (``service`` and ``parts`` are both ``aftersales``).
- A store's choice lives on ``tenancy.Store.modules`` (``{key: bool}``); a key the store never
  set takes the module's ``default``, so a module added later starts at its default everywhere.

With the key declared, an app gets four enforcement points without writing any of them:

- navigation: ``register_menu(..., module="sales")`` hides the entry when the module is off;
- pages: :class:`ModuleMiddleware` answers the 404 page for every view of the app's modules
  (found from the view's Python module, so new URLs are covered too);
- API: :func:`mount_routers` gates the app's router (404 in the API error shape, after
  authentication, before input validation);
- scheduled jobs: :func:`store_periodic_task` runs a job once per active store that has the
  module on (and ``module_enabled`` re-checks a store in a task queued earlier);
- and panels: a customer 360 or home panel of the app is not shown (``core.extensions``).

Not gated (yet): search keys, importers/exporters, timeline kinds and events — a module's
data stays visible where master data shows it.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from .actor import actor_of
from .errors import NotFound
from .extensions import Registry, registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Module:
    key: str
    label: Any  # lazy translated
    description: Any = ""
    default: bool = True  # what a new store gets
    order: int = 100


MODULES: Registry[Module] = registry("modules")


def register_module(module: Module) -> Module:
    return MODULES.register(module, key=module.key, order=module.order)


# The catalogue of SPEC.md. Default on: what a dealership works with from its first day (sales,
# after-sales, follow-up calls, its own dashboards). Default off: what needs setting up before it
# does anything (tiers and points, SMS/WeChat channels and consent, the owner portal's login and
# payment, integration tokens and webhooks) — switched on by the administrator when ready.
for _module in (
    Module("sales", _("Leads and sales"), _("Leads, follow-ups, test drives, quotes, deals, deliveries."), True, 10),
    Module("aftersales", _("After-sales"), _("Appointments, repair orders, maintenance, recalls, parts."), True, 20),
    Module("care", _("Customer care"), _("Follow-up calls, surveys, complaints, win-back, care moments."), True, 30),
    Module("loyalty", _("Loyalty"), _("Membership tiers, points, coupons, referrals, car club."), False, 40),
    Module("marketing", _("Marketing"), _("Segments, journeys, campaigns, messages to customers."), False, 50),
    Module("analytics", _("Analytics"), _("RFM, lifecycle, churn risk, dashboards and reports."), True, 60),
    Module("portal", _("Owner portal"), _("Mobile pages for car owners: bookings, repairs, bills, points."), False, 70),
    Module("integrations", _("Integrations"), _("API tokens for other systems, webhooks, inbound feeds."), False, 80),
):
    register_module(_module)


def modules() -> list[Module]:
    """Every module, in order (for the administrator's page)."""
    return MODULES.entries()


def module_keys() -> list[str]:
    """Every module key, in order."""
    return [m.key for m in MODULES.entries()]


def module_of_app(app_label: str) -> str | None:
    """The module key an app declares in its ``AppConfig`` (None: always on)."""
    try:
        config = apps.get_app_config(app_label)
    except LookupError:
        return None
    return getattr(config, "module_key", None)


def check_declarations(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """System check: every key an ``AppConfig`` declares names a registered module."""
    from django.core.checks import Error

    errors = []
    for config in apps.get_app_configs():
        key = getattr(config, "module_key", None)
        if key is not None and MODULES.get(key) is None:
            errors.append(
                Error(f"{config.name} declares module {key!r}, which is not registered", id="autocrm.E001", obj=config)
            )
    return errors


# --- the per-store setting ------------------------------------------------------------------------


def effective(choices: dict[str, Any] | None) -> frozenset[str]:
    """The keys switched on, given a store's stored choices (missing keys take the default)."""
    choices = choices if isinstance(choices, dict) else {}
    return frozenset(m.key for m in MODULES.entries() if bool(choices.get(m.key, m.default)))


def default_choices() -> dict[str, bool]:
    """A new store's setting: every module at its default, written out."""
    return {m.key: m.default for m in MODULES.entries()}


def _store_model() -> Any:
    return apps.get_model("tenancy", "Store")  # core imports no app


def enabled_in_store(store_id: int | None) -> frozenset[str]:
    """The modules on in one store (none for no store or an inactive one)."""
    if store_id is None:
        return frozenset()
    row = _store_model().objects.filter(pk=store_id, is_active=True).values_list("modules", flat=True).first()
    return frozenset() if row is None else effective(row)


_MEMO_KEY = "_modules_on"


def enabled_for(actor: Any) -> frozenset[str]:
    """The modules on in the actor's current store; read once per actor (one request)."""
    store_id = getattr(actor, "store_id", None)
    memo = getattr(actor, "extra", None)
    if isinstance(memo, dict):
        found = memo.get(_MEMO_KEY)
        if found is not None and found[0] == store_id:
            return found[1]
    on = enabled_in_store(store_id)
    if isinstance(memo, dict):
        memo[_MEMO_KEY] = (store_id, on)
    return on


def module_enabled(actor_or_store_id: Any, key: str | None) -> bool:
    """Is ``key`` on for this actor's current store (or this store id)? ``None`` (master data)
    is always on."""
    if key is None:
        return True
    if isinstance(actor_or_store_id, int) or actor_or_store_id is None:
        return key in enabled_in_store(actor_or_store_id)
    return key in enabled_for(actor_or_store_id)


def module_require(actor: Any, key: str | None) -> None:
    """Raise :class:`NotFound` (404, like a page that does not exist) when the module is off."""
    if not module_enabled(actor, key):
        raise NotFound()


def stores_with_module(key: str) -> list[int]:
    """Ids of the active stores that have ``key`` on, for jobs that sweep every store."""
    rows = _store_model().objects.filter(is_active=True).order_by("pk").values_list("pk", "modules")
    return [pk for pk, choices in rows if key in effective(choices)]


# --- pages ------------------------------------------------------------------------------------------


def module_of_view(view_func: Callable[..., Any]) -> str | None:
    """The module of the app whose code holds ``view_func`` (class-based views too; any callable,
    e.g. a panel's context function)."""
    target = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None) or view_func
    name = getattr(target, "__module__", None)
    config = apps.get_containing_app_config(name) if name else None
    key = getattr(config, "module_key", None) if config is not None else None
    if key is None:
        # A generic view of core used as it is (``ObjectListView.as_view(model=Lead)``): its model's app.
        model = (getattr(view_func, "view_initkwargs", None) or {}).get("model") or getattr(target, "model", None)
        meta = getattr(model, "_meta", None)
        if meta is not None:
            key = module_of_app(meta.app_label)
    return key


class ModuleMiddleware:
    """Pages of a module that is off in the actor's current store answer the 404 page, exactly
    like a page that does not exist. Signed-out visitors are left to the view (which sends them
    to sign in); the check runs once they are someone in some store."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any) -> None:
        key = module_of_view(view_func)
        if key is None:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not module_enabled(actor_of(request), key):
            raise Http404()
        return None


# --- API ----------------------------------------------------------------------------------------------


def gate_auth(auth: Any, key: str) -> Any:
    """``auth`` (a ninja auth callable) that, once it has authenticated the caller, refuses with
    404 when ``key`` is off in the caller's store. Same class name, so the OpenAPI document
    keeps one security scheme."""
    base = type(auth)

    def __call__(self: Any, request: HttpRequest) -> Any:
        result = base.__call__(self, request)
        if result:
            module_require(getattr(request, "actor", None), key)
        return result

    gated_class = type(base.__name__, (base,), {"__call__": __call__, "__module__": base.__module__})
    gated = copy.copy(auth)
    gated.__class__ = gated_class
    return gated


def gated_router_auth(router: Any, api_auth: Any, key: str) -> list[Any] | None:
    """The mount-level auth for a module's router: its own auth (or the API's), gated. Operations
    that set their own ``auth`` (``auth=None`` for public ones) are not covered: such a view calls
    ``module_require`` itself."""
    from ninja.constants import NOT_SET

    auth = router.auth if router.auth is not NOT_SET else api_auth
    if auth is NOT_SET or auth is None:
        return None
    callbacks = auth if isinstance(auth, (list, tuple)) else [auth]
    return [gate_auth(cb, key) for cb in callbacks]


# --- scheduled jobs ----------------------------------------------------------------------------------


def store_periodic_task(module: str, schedule: Callable[..., bool], **task_options: Any) -> Callable[..., Any]:
    """A periodic Huey task that runs ``fn(store_id=...)`` for each active store with ``module``
    on, skipping the others. A failure in one store is logged and does not stop the rest.

        @store_periodic_task("care", local_crontab(minute="0", hour="8"))   # core.schedule
        def followups_due(*, store_id: int) -> None: ...
    """
    from huey.contrib.djhuey import periodic_task

    def decorate(fn: Callable[..., Any]) -> Any:
        def sweep() -> list[int]:
            done = []
            for store_id in stores_with_module(module):
                try:
                    fn(store_id=store_id)
                except Exception:
                    log.exception("%s failed for store %s", fn.__qualname__, store_id)
                else:
                    done.append(store_id)
            return done

        sweep.__name__ = fn.__name__
        sweep.__qualname__ = fn.__qualname__
        sweep.__module__ = fn.__module__
        sweep.__doc__ = fn.__doc__
        task = periodic_task(schedule, **task_options)(sweep)
        task.per_store = fn
        task.module = module
        return task

    return decorate
