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


def demo_modules_on(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: every module on in the demo stores, so each module's pages show."""
    from autocrm.core.modules import module_keys

    every = dict.fromkeys(module_keys(), True)
    for store in stores.values():
        if store.modules != every:
            Store.objects.filter(pk=store.pk).update(modules=every)
            store.modules = every


# The demo's steps, in the order they run: each reads what the steps before it made. A new module
# adds its line where its data belongs (its hook lives in ``demo/<module>.py``).
DEMO_STEPS: tuple[tuple[str, str], ...] = (
    ("loader", "demo_hook"),  # customers and vehicles first: everything else hangs on them
    ("households", "demo_households_hook"),  # links the customers and vehicles just made
    ("messaging", "demo_messaging_hook"),  # settings, console accounts, templates per store
    ("leads", "demo_leads_hook"),  # two years of leads from every channel
    ("sales", "demo_sales_hook"),  # deals, quotes, test drives, deliveries from those leads
    ("parts", "demo_parts_hook"),  # the catalogue and stock per store
    ("item_parts", "demo_item_parts_hook"),  # each plan item's parts (ADR 0027)
    ("scripts", "demo_scripts_hook"),  # the 话术库
    ("service", "demo_service_hook"),  # today's and recent appointments and repair orders
    ("maintenance", "demo_maintenance_hook"),  # plans, work done at each visit, a recall, next visits
    ("service_history", "demo_service_history_hook"),  # years of visits, from the maintenance records
    ("plans", "demo_plans_hook"),  # prepaid plans, accessories, insurer claims (ADR 0025)
    ("mobility", "demo_mobility_hook"),  # loaners, errands, rescues (ADR 0023)
    ("voc", "demo_voc_hook"),  # survey comments, complaints and call notes for /voc/
    ("moments", "demo_moments_hook"),  # care moment triggers on in store a, club events (ADR 0036)
    ("care", "demo_care_hook"),  # follow-up calls, complaints, survey answers (needs the cars)
    ("loyalty", "demo_loyalty_hook"),  # after service: members, points, coupons, tiers (ADR 0034)
)


def _register_steps() -> None:
    import importlib

    steps = [demo_modules_on] + [
        getattr(importlib.import_module(f"{__package__}.{module}"), name) for module, name in DEMO_STEPS
    ]
    demo_hooks[:] = steps + [hook for hook in demo_hooks if hook not in steps]  # a test's extra hooks stay last


_register_steps()
