"""tools/check_scoping.py: unscoped reads of tenant models in interface code and tasks are found
on the syntax tree — through aliases, local variables and inheritance across modules — and the
scoped ways (for_actor, the scoping helpers, a ``# scoped:`` reason) pass."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[4] / "tools" / "check_scoping.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_scoping", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_scoping"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


check_scoping = _load()

# A small tree: TenantModel in core (as in ours), a tenant base class in one module of the app
# (imported under another name), the concrete models in another, a shared catalogue, a model
# scoped by its manager only, and a package __init__ re-exporting a model.
TREE = {
    "__init__.py": "",
    "core/__init__.py": "",
    "core/models.py": """
        from django.db import models

        class StoreScopedManager(models.Manager):
            pass

        class TrackedModel(models.Model):
            pass

        class TenantModel(TrackedModel):
            objects = StoreScopedManager()
    """,
    "shop/__init__.py": "from .models import Order\n",
    "shop/bases.py": """
        from autocrm.core.models import TenantModel as Base

        class Owned(Base):
            class Meta:
                abstract = True
    """,
    "shop/models.py": """
        from django.db import models

        from autocrm.core.models import StoreScopedManager

        from .bases import Owned

        class Order(Owned):
            pass

        class Catalogue(models.Model):
            pass

        class Log(models.Model):
            objects = StoreScopedManager()
    """,
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "autocrm"
    for name, text in TREE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def flagged(root: Path, source: str, filename: str = "views.py") -> list[int]:
    """Lines of ``source`` (put in the shop app as ``filename``) that the checker reports."""
    path = root / "shop" / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    problems, _tenant = check_scoping.check_tree(root)
    return [p.line for p in problems if p.path.endswith(filename)]


IMPORTS = "from .models import Catalogue, Log, Order\nfrom autocrm.core.permissions import get_in_scope\n"


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("def v(request):\n    return Order.objects.all()\n", 4),
        ("def v(request, pk):\n    return Order.objects.filter(pk=pk).first().total\n", 4),
        ("def v(request):\n    return Order._default_manager.count()\n", 4),
        ("def v(request):\n    for o in Order.objects.filter(open=True):\n        print(o)\n", 4),
        ("def v(request):\n    return [o.pk for o in Order.objects.all()]\n", 4),
        ("def v(request):\n    if Order.objects.exists():\n        return 1\n", 4),
        ("def v(request):\n    return paginate(Order.objects.order_by('-pk'), 20)\n", 4),
        ("class OrderList(ListView):\n    queryset = Order.objects.all()\n", 4),
        ("ORDERS = Order.objects.none()\n", 3),
        ("def v(request):\n    return {'n': Log.objects.count()}\n", 4),  # scoped by its manager
    ],
)
def test_unscoped_reads_are_found(tree: Path, source: str, line: int) -> None:
    assert flagged(tree, IMPORTS + source) == [line]


def test_a_model_alias_is_followed(tree: Path) -> None:
    source = """
        from .models import Order

        M = Order

        def v(request):
            Model = M
            return Model.objects.count()
    """
    assert flagged(tree, source) == [7]


def test_a_queryset_through_local_variables_is_followed(tree: Path) -> None:
    source = """
        from .models import Order

        def v(request):
            qs = Order.objects.filter(open=True)
            recent = qs.order_by("-pk")
            return list(recent[:10])
    """
    assert flagged(tree, source) == [4]


def test_a_task_is_checked(tree: Path) -> None:
    task = """
        from huey.contrib.djhuey import db_task

        from .models import Order

        @db_task()
        def close_order(order_id):
            Order.objects.filter(pk=order_id).update(open=False)
    """
    assert flagged(tree, task, "tasks.py") == [7]
    assert flagged(tree, task, "billing_tasks.py") == [7]


@pytest.mark.parametrize("filename", ["api.py", "api_orders.py", "forms.py", "tables.py", "filtersets.py", "panels.py",
                                      "views_orders.py", "templatetags/shop_tags.py", "schemas.py", "admin.py",
                                      "context_processors.py", "forms_admin.py"])  # fmt: skip
def test_every_kind_of_interface_module_is_checked(tree: Path, filename: str) -> None:
    source = "from autocrm.shop.models import Order\n\ndef f(actor):\n    return Order.objects.all()\n"
    assert flagged(tree, source, filename) == [4]


def test_tenant_models_are_found_by_inheritance_across_modules_and_by_their_manager(tree: Path) -> None:
    _problems, tenant = check_scoping.check_tree(tree)
    assert {"autocrm.shop.models.Order", "autocrm.shop.bases.Owned", "autocrm.shop.models.Log"} <= tenant
    assert "autocrm.shop.models.Catalogue" not in tenant


@pytest.mark.parametrize(
    "source",
    [
        "from autocrm.shop import models as shop_models\n\ndef v(r):\n    return shop_models.Order.objects.all()\n",
        "from autocrm.shop import Order\n\ndef v(r):\n    return Order.objects.all()\n",  # a re-export
        "import autocrm.shop.models\n\ndef v(r):\n    return autocrm.shop.models.Order.objects.all()\n",
        "def v(r):\n    from .models import Order\n    return Order.objects.all()\n",  # a lazy import
    ],
)
def test_every_way_of_naming_the_model_is_resolved(tree: Path, source: str) -> None:
    assert len(flagged(tree, source)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "def v(actor):\n    return Order.objects.for_actor(actor, 'view').filter(open=True)\n",
        "def v(actor):\n    qs = Order.objects.select_related('c')\n    return qs.for_actor(actor)\n",
        "def v(actor, pk):\n    return get_in_scope(Order.objects.select_related('c'), actor, pk)\n",
        "def v(actor, pk):\n    qs = Order.objects.select_related('c')\n    return get_in_scope(qs, actor, pk)\n",
        "from autocrm.core import permissions\n\n"
        "def v(actor):\n    return permissions.restrict(Order.objects.all(), actor, 'view')\n",
        "from autocrm.core.views import scoped_object_or_404\n\n"
        "def v(actor, pk):\n    return scoped_object_or_404(Order.objects.all(), actor, pk)\n",
        "def v(actor):\n    return Catalogue.objects.all()\n",  # a shared catalogue
        "def v(actor):\n    try:\n        pass\n    except Order.DoesNotExist:\n        return None\n",
        "def v(actor):\n    qs = Order.objects.all()\n    qs = Order.objects.for_actor(actor)\n    return qs\n",
    ],
)
def test_scoped_reads_pass(tree: Path, source: str) -> None:
    assert flagged(tree, IMPORTS + source) == []


def test_a_scoped_comment_with_a_reason_waives_the_line(tree: Path) -> None:
    source = IMPORTS + textwrap.dedent("""
        def a(job_id):
            return Order.objects.filter(pk=job_id).count()  # scoped: the job's own row, by id

        def b(job_id):
            # scoped: every store's stale rows, nightly
            return Order.objects.filter(pk=job_id).count()

        def c(job_id):
            return Order.objects.filter(pk=job_id).count()  # scoped:
    """)
    assert flagged(tree, source, "tasks.py") == [12]  # no reason given: not waived


def test_selectors_services_and_tests_are_not_interface_code(tree: Path) -> None:
    source = IMPORTS + "def f(actor):\n    return Order.objects.all()\n"
    for filename in ("selectors.py", "services.py", "importing.py", "tests/test_views.py", "migrations/0001_x.py"):
        assert flagged(tree, source, filename) == []


def test_the_real_tree_knows_its_tenant_models() -> None:
    problems, tenant = check_scoping.check_tree(check_scoping.ROOT)
    assert {
        "autocrm.customers.models.Customer",
        "autocrm.vehicles.models.Vehicle",
        "autocrm.imports.models.ImportJob",
        "autocrm.audit.models.AuditEvent",  # scoped by its manager, not by inheritance
        "autocrm.tenancy.models.Store",
    } <= tenant
    assert not {"autocrm.vehicles.models.Brand", "autocrm.accounts.models.User"} & tenant
    assert problems == []
