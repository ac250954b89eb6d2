"""The demo organization: two stores of two brands and the logins of API.md.

Idempotent: running it again changes nothing that is already there. Refuses in production.
Later modules add their data through ``demo_hooks`` (customers, leads, …)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from autocrm.accounts.models import Membership, User
from autocrm.accounts.services import membership_set, user_create
from autocrm.core.roles import Role
from autocrm.tenancy.models import Organization, Store

ORG = {"code": "demo", "name": "华东示范汽车集团"}
STORES = [
    {
        "code": "a",
        "name": "上海浦东比亚迪4S店",
        "brand": "比亚迪",
        "province": "上海市",
        "city": "上海市",
        "address": "上海市浦东新区张杨路1200号",
        "phone": "021-58881234",
        "opening_hours": "08:30-18:00",
    },
    {
        "code": "b",
        "name": "杭州西湖丰田4S店",
        "brand": "丰田",
        "province": "浙江省",
        "city": "杭州市",
        "address": "浙江省杭州市西湖区文三路398号",
        "phone": "0571-87654321",
        "opening_hours": "08:30-18:00",
    },
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    store_code: str | None


def demo_logins() -> list[DemoLogin]:
    logins = [
        DemoLogin("admin", "系统管理员", Role.ADMIN, None),
        DemoLogin("director", "集团总监 周明", Role.DIRECTOR, None),
    ]
    names = {
        "a": {
            "manager": "王建国",
            "sales1": "李娜",
            "sales2": "张伟",
            "advisor": "陈刚",
            "agent": "刘芳",
            "marketing": "赵敏",
            "sales_manager": "钱志强",
            "service_manager": "孙立新",
            "tech": "马超",
            "finance": "林晓燕",
        },
        "b": {
            "manager": "孙强",
            "sales1": "周婷",
            "sales2": "吴磊",
            "advisor": "郑浩",
            "agent": "何静",
            "marketing": "冯雪",
            "sales_manager": "许文博",
            "service_manager": "韩冬",
            "tech": "曹阳",
            "finance": "邓佳",
        },
    }
    for code in ("a", "b"):
        n = names[code]
        logins += [
            DemoLogin(f"manager_{code}", n["manager"], Role.MANAGER, code),
            DemoLogin(f"sales_{code}1", n["sales1"], Role.SALES, code),
            DemoLogin(f"sales_{code}2", n["sales2"], Role.SALES, code),
            DemoLogin(f"advisor_{code}1", n["advisor"], Role.ADVISOR, code),
            DemoLogin(f"agent_{code}1", n["agent"], Role.AGENT, code),
            DemoLogin(f"marketing_{code}1", n["marketing"], Role.MARKETING, code),
            DemoLogin(f"sales_manager_{code}", n["sales_manager"], Role.SALES_MANAGER, code),
            DemoLogin(f"service_manager_{code}", n["service_manager"], Role.SERVICE_MANAGER, code),
            DemoLogin(f"tech_{code}1", n["tech"], Role.TECHNICIAN, code),
            DemoLogin(f"finance_{code}1", n["finance"], Role.FINANCE, code),
        ]
    return logins


# Later modules register functions that add their demo data: fn(organization, stores, options).
demo_hooks: list[Callable[..., Any]] = []


@transaction.atomic
def demo_create(**options: Any) -> dict[str, Any]:
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("autocrm demo refuses to run when AUTOCRM_ENV=production")
    org, _ = Organization.objects.get_or_create(code=ORG["code"], defaults={"name": ORG["name"]})
    stores: dict[str, Store] = {}
    for spec in STORES:
        store, _ = Store.objects.get_or_create(organization=org, code=spec["code"], defaults=spec)
        stores[spec["code"]] = store
    created = 0
    for login in demo_logins():
        user = User.objects.filter(username=login.username).first()
        if user is None:
            user = user_create(
                organization_id=org.pk,
                username=login.username,
                password=settings.AUTOCRM_DEMO_PASSWORD,
                display_name=login.display_name,
            )
            created += 1
        store_id = stores[login.store_code].pk if login.store_code else None
        # store_id None is the organization-wide membership (IS NULL); django-stubs types lookups non-null.
        if not Membership.objects.filter(user=user, store_id=store_id, role=login.role).exists():  # type: ignore[misc]
            membership_set(user=user, role=login.role, store_id=store_id)
    for hook in demo_hooks:
        hook(organization=org, stores=stores, options=options)
    return {"organization": org, "stores": stores, "users_created": created}


def _register_default_hooks() -> None:
    from .loader import demo_hook  # customers and vehicles first: later modules' demo data hangs on them

    if demo_hook not in demo_hooks:
        demo_hooks.insert(0, demo_hook)


_register_default_hooks()


def demo_modules_on(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: every module on in the demo stores, so each module's pages show."""
    from autocrm.core.modules import module_keys

    every = dict.fromkeys(module_keys(), True)
    for store in stores.values():
        if store.modules != every:
            Store.objects.filter(pk=store.pk).update(modules=every)
            store.modules = every


def _register_household_hooks() -> None:
    from .households import demo_households_hook  # after the customers and vehicles: it links them
    from .loader import demo_hook

    if demo_modules_on not in demo_hooks:
        demo_hooks.insert(0, demo_modules_on)
    if demo_households_hook not in demo_hooks:
        demo_hooks.insert(demo_hooks.index(demo_hook) + 1, demo_households_hook)


_register_household_hooks()


def _register_messaging_hook() -> None:
    from .messaging import demo_messaging_hook  # settings, console accounts, templates per store

    if demo_messaging_hook not in demo_hooks:
        demo_hooks.append(demo_messaging_hook)


_register_messaging_hook()


def _register_leads_hook() -> None:
    from .leads import demo_leads_hook  # leads from every channel, with activities and lost requests

    if demo_leads_hook not in demo_hooks:
        demo_hooks.append(demo_leads_hook)


_register_leads_hook()


def _register_sales_hooks() -> None:
    from .sales import demo_sales_hook  # last: deals hang on the stores' staff, and deliveries on customers

    if demo_sales_hook not in demo_hooks:
        demo_hooks.append(demo_sales_hook)


_register_sales_hooks()


def _register_parts_hook() -> None:
    from .parts import demo_parts_hook  # the after-sales catalogue, stock, suppliers and orders

    if demo_parts_hook not in demo_hooks:
        demo_hooks.append(demo_parts_hook)


_register_parts_hook()


def _register_scripts_hook() -> None:
    from .scripts import demo_scripts_hook  # the sales-script library (话术库) of each store

    if demo_scripts_hook not in demo_hooks:
        demo_hooks.append(demo_scripts_hook)


_register_scripts_hook()


def _register_service_hook() -> None:
    from .service import demo_service_hook  # after parts: appointments, repair orders, bills

    if demo_service_hook not in demo_hooks:
        demo_hooks.append(demo_service_hook)


_register_service_hook()


def _register_service_history_hook() -> None:
    from .service import demo_service_hook
    from .service_history import demo_service_history_hook  # after today's repair orders: years of visits

    if demo_service_history_hook not in demo_hooks:
        demo_hooks.insert(demo_hooks.index(demo_service_hook) + 1, demo_service_history_hook)


_register_service_history_hook()


def _register_maintenance_hook() -> None:
    from .maintenance import demo_maintenance_hook  # plans, work done at each visit, a recall, next visits
    from .service_history import demo_service_history_hook  # after maintenance: its records say what a visit did

    if demo_maintenance_hook not in demo_hooks:
        demo_hooks.insert(demo_hooks.index(demo_service_history_hook), demo_maintenance_hook)


_register_maintenance_hook()


def _register_plans_hook() -> None:
    from .plans import demo_plans_hook  # after the service demo: plans, accessories, insurer claims (ADR 0025)

    if demo_plans_hook not in demo_hooks:
        demo_hooks.append(demo_plans_hook)


_register_plans_hook()


def _register_mobility_hook() -> None:
    from .mobility import demo_mobility_hook  # after service: loaners, errands, rescues (ADR 0023)

    if demo_mobility_hook not in demo_hooks:
        demo_hooks.append(demo_mobility_hook)


_register_mobility_hook()


def _register_voc_hook() -> None:
    from .voc import demo_voc_hook  # survey comments, complaints and call notes for /voc/

    if demo_voc_hook not in demo_hooks:
        demo_hooks.append(demo_voc_hook)


_register_voc_hook()


def _register_item_parts_hook() -> None:
    from .item_parts import demo_item_parts_hook  # after the catalogue: each plan item's parts (ADR 0027)
    from .parts import demo_parts_hook

    if demo_item_parts_hook not in demo_hooks:
        demo_hooks.insert(demo_hooks.index(demo_parts_hook) + 1, demo_item_parts_hook)


_register_item_parts_hook()


def _register_moments_hook() -> None:
    from .moments import demo_moments_hook  # care moment triggers on in store a, club events (ADR 0036)

    if demo_moments_hook not in demo_hooks:
        demo_hooks.append(demo_moments_hook)


_register_moments_hook()


def _register_care_hook() -> None:
    from .care import demo_care_hook  # follow-up calls, complaints, survey answers (needs the cars)

    if demo_care_hook not in demo_hooks:
        demo_hooks.append(demo_care_hook)


_register_care_hook()
def _register_loyalty_hook() -> None:
    from .loyalty import demo_loyalty_hook  # after service: members, points, coupons, tiers (ADR 0034)

    if demo_loyalty_hook not in demo_hooks:
        demo_hooks.append(demo_loyalty_hook)


_register_loyalty_hook()
