"""House rule 3: interface code reads tenant data only through ``for_actor``.

Flags ``<TenantModel>.objects.…`` in views, API handlers, forms, tables, filtersets, panels and
template tags unless the chain goes through ``for_actor`` or is handed to ``get_in_scope`` /
``scoped_object_or_404`` (which apply the scope themselves). A line that is scoped another way
says so with a ``# scoped: <why>`` comment on it or on the line above.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "autocrm"
INTERFACE = re.compile(r"^(views.*|api.*|forms|tables|filtersets|panels)\.py$")
SCOPERS = ("for_actor", "get_in_scope", "scoped_object_or_404", "customer_get", "vehicle_get")


def tenant_models() -> set[str]:
    """Class names of models built on TenantModel (or carrying scope_store_field) in our apps."""
    names: set[str] = set()
    for path in ROOT.rglob("models.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if "TenantModel" in bases or node.name == "AuditEvent":
                    names.add(node.name)
    return names


def main() -> int:
    models = tenant_models()
    pattern = re.compile(r"\b(" + "|".join(sorted(models)) + r")\.objects\b")
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        if not (INTERFACE.match(path.name) or path.parent.name == "templatetags"):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            previous = lines[number - 2] if number > 1 else ""
            if not pattern.search(line) or "# scoped:" in line or "# scoped:" in previous:
                continue
            if any(s in line for s in SCOPERS):
                continue
            problems.append(f"{path.relative_to(ROOT.parent.parent)}:{number}: {line.strip()}")
    for p in problems:
        print(p)
    if problems:
        print(f"\n{len(problems)} unscoped read(s) of tenant data in interface code: use for_actor(actor, action).")
        return 1
    print(f"scoping: interface code reads {len(models)} tenant models only through for_actor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
