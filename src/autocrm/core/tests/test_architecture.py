"""The import-linter contracts of pyproject.toml refuse imports in the wrong direction, including
between apps that do not exist yet: the first wrong import fails as soon as the app appears."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter import configuration
from importlinter.adapters.user_options import TomlFileUserOptionReader
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract

configuration.configure()  # what lint-imports does first: the contracts read its timer

ROOT = Path(__file__).resolve().parents[4]
# The apps of today's tree; the planned ones appear in the tests below.
EXISTING = ["config", "demo", "vehicles", "customers", "imports", "audit", "accounts", "tenancy", "core"]


def _contracts() -> dict[str, dict[str, Any]]:
    """The contracts as lint-imports reads them from pyproject.toml."""
    options = TomlFileUserOptionReader().read_options(str(ROOT / "pyproject.toml"))
    assert options is not None
    return {c["name"]: c for c in options.contracts_options}


def _check(contract_name: str, imports: list[tuple[str, str]], apps: list[str] | None = None) -> Any:
    """Run one contract of pyproject.toml over a synthetic graph: ``apps`` (each with a
    ``services`` module) and ``imports`` between modules."""
    options = dict(_contracts()[contract_name])
    kind = options.pop("type")
    options.pop("name")
    options.pop("id", None)
    options["unmatched_ignore_imports_alerting"] = "none"  # the synthetic graph has no tests
    graph = grimp.ImportGraph()
    graph.add_module("autocrm")
    for app in apps or EXISTING:
        graph.add_module(f"autocrm.{app}")
        graph.add_module(f"autocrm.{app}.services")
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    cls = {"layers": LayersContract, "forbidden": ForbiddenContract}[kind]
    contract = cls(name=contract_name, session_options={"root_packages": ["autocrm"]}, contract_options=options)
    return contract.check(graph, verbose=False)


LAYERS = "Layers of the data flow"
CORE = "core imports no app"


def test_todays_apps_keep_the_contracts() -> None:
    assert _check(LAYERS, [("autocrm.vehicles.services", "autocrm.customers.services")]).kept
    assert _check(CORE, []).kept


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("autocrm.customers.services", "autocrm.leads.services"),  # master data above a module
        ("autocrm.vehicles.services", "autocrm.care.services"),
        ("autocrm.imports.services", "autocrm.customers.services"),  # imports sits below customers
        ("autocrm.audit.services", "autocrm.imports.services"),
        ("autocrm.channels.services", "autocrm.messaging.services"),
        ("autocrm.leads.services", "autocrm.analytics.services"),
        ("autocrm.analytics.services", "autocrm.marketing.services"),
        ("autocrm.marketing.services", "autocrm.portal.services"),
        ("autocrm.integrations.services", "autocrm.demo.services"),
        ("autocrm.service.services", "autocrm.care.services"),  # sibling modules talk through events
        ("autocrm.portal.services", "autocrm.integrations.services"),
        ("autocrm.leads.services", "autocrm.sales.services"),  # a lead does not know its deal
        ("autocrm.parts.services", "autocrm.service.services"),
        ("autocrm.leads.services", "autocrm.parts.services"),  # siblings
    ],
)
def test_a_planned_app_in_the_wrong_direction_is_refused(importer: str, imported: str) -> None:
    apps = sorted({*EXISTING, importer.split(".")[1], imported.split(".")[1]})
    check = _check(LAYERS, [(importer, imported)], apps)
    assert not check.kept
    assert check.metadata["invalid_dependencies"], check.metadata


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("autocrm.leads.services", "autocrm.customers.services"),
        ("autocrm.care.services", "autocrm.channels.services"),
        ("autocrm.marketing.services", "autocrm.leads.services"),
        ("autocrm.customers.services", "autocrm.imports.services"),
        ("autocrm.portal.services", "autocrm.loyalty.services"),
        ("autocrm.sales.services", "autocrm.leads.services"),  # a deal starts from a lead
        ("autocrm.service.services", "autocrm.parts.services"),  # a repair order consumes parts
        ("autocrm.leads.services", "autocrm.messaging.services"),
    ],
)
def test_a_planned_app_in_the_right_direction_is_kept(importer: str, imported: str) -> None:
    apps = sorted({*EXISTING, importer.split(".")[1], imported.split(".")[1]})
    assert _check(LAYERS, [(importer, imported)], apps).kept


def test_an_app_missing_from_the_contract_fails_until_it_is_placed() -> None:
    check = _check(LAYERS, [], [*EXISTING, "warranty"])
    assert not check.kept
    assert "autocrm.warranty" in str(check.metadata)


@pytest.mark.parametrize("app", ["leads", "customers", "accounts", "warranty"])
def test_core_imports_no_app_even_one_added_later(app: str) -> None:
    apps = sorted({*EXISTING, app})
    assert not _check(CORE, [("autocrm.core.services", f"autocrm.{app}.services")], apps).kept


def test_lint_imports_refuses_customers_importing_a_new_marketing_app(tmp_path: Path) -> None:
    """End to end on a copy of the tree: the real ``lint-imports`` and pyproject.toml, a new
    ``autocrm.marketing`` package, and one import of it from customers."""
    shutil.copytree(ROOT / "src" / "autocrm", tmp_path / "src" / "autocrm", ignore=shutil.ignore_patterns(
        "__pycache__", "static", "templates", "locale"
    ))  # fmt: skip
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    marketing = tmp_path / "src" / "autocrm" / "marketing"
    marketing.mkdir()
    (marketing / "__init__.py").write_text("")
    (marketing / "selectors.py").write_text("def campaigns_list() -> list[int]:\n    return []\n")
    lint = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "--no-logo"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}

    def run() -> subprocess.CompletedProcess[str]:
        # our own lint-imports with fixed arguments
        return subprocess.run(lint, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603

    kept = run()
    assert kept.returncode == 0, kept.stdout + kept.stderr  # the new app, placed in its layer

    (tmp_path / "src" / "autocrm" / "customers" / "campaign_links.py").write_text(
        "from autocrm.marketing import selectors\n"
    )
    broken = run()
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "autocrm.customers.campaign_links -> autocrm.marketing.selectors" in broken.stdout
