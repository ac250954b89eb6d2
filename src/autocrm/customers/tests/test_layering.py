"""customers sits below vehicles: it must not name vehicles' models, relations or fields. What it
needs of them comes through the registries vehicles fills (search keys, quality checks, duplicate
evidence, 360 panels). import-linter forbids the import; this test forbids the reach-in by name
(``vehicles__plate`` lookups, ``Customer._meta.get_field("vehicles")``, ``customer.vehicles``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.apps import apps

import autocrm.customers

CUSTOMERS = Path(autocrm.customers.__file__).parent
TEMPLATES = CUSTOMERS.parent / "templates" / "customers"
# The modules the registries replaced reach-ins in: nothing of vehicles may be named there at all.
STRICT = ("quality.py", "dedup.py", "search.py", "merging.py", "selectors.py")


def _vehicles_names() -> tuple[set[str], set[str], set[str]]:
    """(model class names, relation names reaching vehicles from customers, vehicle-only fields)."""
    vehicles = apps.get_app_config("vehicles")
    customer = apps.get_model("customers", "Customer")
    models = {m.__name__ for m in vehicles.get_models()}
    relations = {
        rel.get_accessor_name()
        for rel in customer._meta.related_objects
        if rel.related_model._meta.app_label == "vehicles"
    }
    relations |= {rel.name for rel in customer._meta.related_objects if rel.related_model._meta.app_label == "vehicles"}
    own = {f.name for f in customer._meta.get_fields()} | {"id", "store", "store_id", "created_at", "updated_at"}
    fields = {f.name for m in vehicles.get_models() for f in m._meta.get_fields()} - own - relations
    return models, relations, fields


def _sources() -> list[Path]:
    return sorted(p for p in CUSTOMERS.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts)


def _offences(path: Path, models: set[str], relations: set[str], fields: set[str]) -> list[str]:
    strict = path.name in STRICT
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # A name imported from elsewhere is not vehicles' (django.db.models.functions.Trim).
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and not (node.module or "").startswith("autocrm.vehicles")
        for alias in node.names
    }
    models = models - imported
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(CUSTOMERS)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autocrm.vehicles"):
            found.append(f"{where} imports {node.module}")
        if isinstance(node, ast.Import) and any(a.name.startswith("autocrm.vehicles") for a in node.names):
            found.append(f"{where} imports vehicles")
        names: list[str] = []
        if isinstance(node, ast.Name):
            names = [node.id]
        elif isinstance(node, ast.Attribute):
            names = [node.attr]
        for name in names:
            if name in models or (isinstance(node, ast.Attribute) and name in relations):
                found.append(f"{where} names {name}")
        lookups: list[str] = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            lookups = [node.value]
        elif isinstance(node, ast.keyword) and node.arg:
            lookups = [node.arg]
        for text in lookups:
            parts = text.split("__")
            if text in models:
                found.append(f"{where} names {text!r}")
            elif len(parts) > 1 and parts[0] in relations:
                found.append(f"{where} looks up {text!r}")
            elif strict and (text in relations or (len(parts) > 1 and set(parts) & fields)):
                found.append(f"{where} names {text!r}")
    return found


def test_customers_code_does_not_name_vehicles_models_relations_or_fields():
    models, relations, fields = _vehicles_names()
    assert {"Vehicle", "Ownership", "OdometerReading"} <= models and "vehicles" in relations and "vin" in fields
    offences = [o for path in _sources() for o in _offences(path, models, relations, fields)]
    assert offences == []


def test_customers_templates_do_not_reach_into_vehicles():
    _models, relations, _fields = _vehicles_names()
    pattern = re.compile(r"\.(" + "|".join(sorted(relations)) + r")\b")
    offences = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for tag in re.findall(r"{[{%].*?[%}]}", line):
                if pattern.search(tag):
                    offences.append(f"{path.name}:{n}: {tag}")
    assert offences == []


def test_the_check_catches_a_reach_in(tmp_path):
    """A test that cannot fail is not a test: the old reach-ins are caught."""
    models, relations, fields = _vehicles_names()
    bad = tmp_path / "search.py"
    bad.write_text(
        "def f(qs, Customer):\n"
        "    Customer._meta.get_field('vehicles')\n"
        "    qs.filter(vehicles__plate__endswith='1')\n"
        "    return qs.values_list('id', 'vehicles__vin')\n",
        encoding="utf-8",
    )
    global CUSTOMERS
    saved, CUSTOMERS = CUSTOMERS, tmp_path
    try:
        offences = _offences(bad, models, relations, fields)
    finally:
        CUSTOMERS = saved
    assert len(offences) == 3, offences
