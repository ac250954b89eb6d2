"""House rule 3: interface code and background tasks read tenant data only through ``for_actor``.

Checks the syntax tree (not the text) of views, API handlers and schemas, forms, tables,
filtersets, panels, template tags, context processors, admin and tasks (``tasks.py``,
``*_tasks.py``) for a manager of a tenant model —
``<Model>.objects``, ``._default_manager``, ``._base_manager`` — whose queryset (or the rows it
reads) is used without going through ``.for_actor(actor, action)`` or being handed to a scoping
helper (``get_in_scope``, ``scoped_object_or_404``, ``restrict``), which apply the scope
themselves. The chain is followed through local variables (``qs = Customer.objects.all()`` …
``qs.count()``) and model aliases (``M = Customer``; ``M.objects``).

A tenant model is any class that inherits ``autocrm.core.models.TenantModel`` — directly or
through other classes, in any module — or that declares the store-scoped manager
(``objects = StoreScopedManager()``) or a ``scope_store_field``, such as the audit trail and the
store itself.

Scoped another way (a task that re-checks the store itself, a sweep over every store)? Say why
with ``# scoped: <why>`` on the line of the manager, the line above it, or the first line of the
statement.

    python tools/check_scoping.py [ROOT]     # ROOT defaults to src/autocrm
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "autocrm"
TENANT_BASE = "autocrm.core.models.TenantModel"
SCOPED_MANAGER = "StoreScopedManager"
MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
SCOPING_METHODS = frozenset({"for_actor"})
SCOPING_HELPERS = frozenset({"get_in_scope", "scoped_object_or_404", "restrict"})
INTERFACE = re.compile(
    r"^(views|api|forms|tables|filtersets|panels|schemas|admin|context_processors)(_\w+)?\.py$|^(\w+_)?tasks\.py$"
)
SCOPED_COMMENT = re.compile(r"#\s*scoped:\s*\S")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def is_interface(path: Path) -> bool:
    """Code that runs for a request or a job, where a read must be scoped to the actor."""
    if "tests" in path.parts or "migrations" in path.parts:
        return False
    return bool(INTERFACE.match(path.name)) or path.parent.name == "templatetags"


# --- names: what a dotted expression refers to ------------------------------------------------


def module_name(path: Path, root: Path) -> str:
    """``root/customers/models.py`` → ``autocrm.customers.models`` (root is the package)."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """Local name → qualified name, for every import in the module (lazy ones in functions too)."""
    package = module if is_package else module.rpartition(".")[0]
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                if alias.name != "*":
                    names[alias.asname or alias.name] = f"{base}.{alias.name}"
    return names


def dotted(expr: ast.expr, names: dict[str, str]) -> str | None:
    """The qualified name of ``a.b.c`` given the local ``names``, or None when not a plain name."""
    if isinstance(expr, ast.Name):
        return names.get(expr.id)
    if isinstance(expr, ast.Attribute):
        base = dotted(expr.value, names)
        return f"{base}.{expr.attr}" if base else None
    return None


@dataclass
class Index:
    """Every module of the tree: its imports and its classes (with their bases, qualified)."""

    symbols: dict[str, dict[str, str]] = field(default_factory=dict)
    bases: dict[str, list[str]] = field(default_factory=dict)
    marked: set[str] = field(default_factory=set)  # classes declaring the scoped manager

    def canonical(self, qualified: str, depth: int = 0) -> str:
        """Follow re-exports (``from .models import Customer`` in a package's __init__)."""
        if qualified in self.bases or depth > 10:
            return qualified
        module, _, name = qualified.rpartition(".")
        target = self.symbols.get(module, {}).get(name)
        return self.canonical(target, depth + 1) if target and target != qualified else qualified


def build_index(root: Path) -> Index:
    index = Index()
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names = imported_names(tree, module, path.name == "__init__.py")
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                names[node.name] = f"{module}.{node.name}"
            elif isinstance(node, ast.Assign):  # module-level aliases: Base = TenantModel
                for target in node.targets:
                    if isinstance(target, ast.Name) and (value := dotted(node.value, names)):
                        names[target.id] = value
        index.symbols[module] = names
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            qualified = f"{module}.{node.name}"
            index.bases[qualified] = [b for b in (dotted(base, names) for base in node.bases) if b]
            if _declares_scope(node, names):
                index.marked.add(qualified)
    return index


def _declares_scope(node: ast.ClassDef, names: dict[str, str]) -> bool:
    for stmt in node.body:
        if isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            target_names = {t.id for t in targets if isinstance(t, ast.Name)}
            if "scope_store_field" in target_names:
                return True
            value = stmt.value
            if "objects" in target_names and isinstance(value, ast.Call):
                func = dotted(value.func, names) or ""
                if func.rpartition(".")[2] == SCOPED_MANAGER:
                    return True
    return False


def tenant_models(index: Index) -> set[str]:
    """Qualified names of the store-scoped models: by inheritance (across modules) or by the
    scoped manager / ``scope_store_field`` they declare."""
    tenant = {TENANT_BASE, *index.marked}
    changed = True
    while changed:
        changed = False
        for cls, bases in index.bases.items():
            if cls not in tenant and any(index.canonical(b) in tenant for b in bases):
                tenant.add(cls)
                changed = True
    return tenant


# --- the check of one interface module --------------------------------------------------------


class ScopeChecker:
    """Follows unscoped querysets through one module: an expression is *unscoped* when it is a
    tenant model's manager, or a chain / local variable derived from one without ``for_actor``.
    Using it for anything but another local variable or a scoping helper is a problem."""

    def __init__(self, tree: ast.Module, module: str, is_package: bool, index: Index, tenant: set[str]) -> None:
        self.tree = tree
        self.index = index
        self.tenant = tenant
        self.names = imported_names(tree, module, is_package)
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                self.names[node.name] = f"{module}.{node.name}"
        self.found: list[tuple[int, int]] = []  # (line of the manager, line of the statement)
        self._statement = 0

    # Scopes: model aliases and unscoped locals, per function (inheriting the enclosing scope).
    def run(self) -> list[tuple[int, int]]:
        aliases: dict[str, str] = {}  # module-level aliases first: functions above them use them too
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Assign) and self._is_tenant(stmt.value, aliases):
                aliases.update((t.id, "model") for t in stmt.targets if isinstance(t, ast.Name))
        self._block(self.tree.body, aliases=aliases, local={}, escapes=True)
        return sorted(set(self.found))

    def _is_tenant(self, expr: ast.expr, aliases: dict[str, str]) -> bool:
        if isinstance(expr, ast.Name) and expr.id in aliases:
            return True
        qualified = dotted(expr, self.names)
        return qualified is not None and self.index.canonical(qualified) in self.tenant

    def _block(self, body: list[ast.stmt], *, aliases: dict[str, str], local: dict[str, int], escapes: bool) -> None:
        """``escapes``: module and class bodies, where an assigned queryset is shared state."""
        for stmt in body:
            self._stmt(stmt, aliases, local, escapes)

    def _stmt(self, stmt: ast.stmt, aliases: dict[str, str], local: dict[str, int], escapes: bool) -> None:
        self._statement = stmt.lineno
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            for expr in [*stmt.decorator_list, *stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d)]:
                self._use(expr, aliases, local)
            self._block(stmt.body, aliases=dict(aliases), local=dict(local), escapes=False)
            return
        if isinstance(stmt, ast.ClassDef):
            for base in stmt.bases:
                self._use(base, aliases, local)
            self._block(stmt.body, aliases=dict(aliases), local={}, escapes=True)
            return
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if self._is_tenant(stmt.value, aliases):  # M = Customer
                for name in names:
                    aliases[name] = "model"
            else:
                for name in names:
                    aliases.pop(name, None)
            origin = self._taint(stmt.value, aliases, local)
            if origin is not None and (escapes or len(names) != len(targets)):
                self.found.append((origin, self._statement))
            for name in names:
                if origin is not None and not escapes:
                    local[name] = origin
                else:
                    local.pop(name, None)
            for target in targets:
                if not isinstance(target, ast.Name):
                    self._use(target, aliases, local)
            return
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            origin = self._taint(stmt.value, aliases, local)
            if origin is not None:
                if escapes:
                    self.found.append((origin, self._statement))
                else:
                    local[stmt.target.id] = origin
            return
        for name, value in ast.iter_fields(stmt):
            if isinstance(value, list):
                stmts = [v for v in value if isinstance(v, ast.stmt)]
                if stmts:
                    self._block(stmts, aliases=aliases, local=local, escapes=escapes)
                for v in value:
                    if isinstance(v, ast.expr):
                        self._use(v, aliases, local)
                    elif isinstance(v, ast.excepthandler | ast.match_case | ast.withitem):
                        self._node(v, aliases, local, escapes)
            elif isinstance(value, ast.expr) and name != "annotation":
                self._use(value, aliases, local)

    def _node(self, node: ast.AST, aliases: dict[str, str], local: dict[str, int], escapes: bool) -> None:
        """An except handler, a match case or a with item: its expressions, then its statements."""
        self._statement = getattr(node, "lineno", self._statement)
        for value in ast.iter_child_nodes(node):
            if isinstance(value, ast.stmt):
                self._stmt(value, aliases, local, escapes)
            elif isinstance(value, ast.expr):
                self._use(value, aliases, local)

    def _use(self, expr: ast.expr, aliases: dict[str, str], local: dict[str, int]) -> None:
        """``expr``'s value is used (returned, iterated, passed on, tested…)."""
        origin = self._taint(expr, aliases, local)
        if origin is not None:
            self.found.append((origin, self._statement))

    def _taint(self, expr: ast.expr, aliases: dict[str, str], local: dict[str, int]) -> int | None:
        """The line of the unscoped manager ``expr`` derives from, or None; sub-expressions that
        use an unscoped value otherwise are recorded as found."""
        if isinstance(expr, ast.Attribute):
            if expr.attr in MANAGERS and self._is_tenant(expr.value, aliases):
                return expr.lineno
            return self._taint(expr.value, aliases, local)
        if isinstance(expr, ast.Name):
            return local.get(expr.id) if isinstance(expr.ctx, ast.Load) else None
        if isinstance(expr, ast.Call):
            func = expr.func
            helper = _last_name(func, self.names) in SCOPING_HELPERS
            receiver = None
            if isinstance(func, ast.Attribute):
                receiver = self._taint(func.value, aliases, local)
            elif not isinstance(func, ast.Name):
                self._use(func, aliases, local)
            for arg in [*expr.args, *(k.value for k in expr.keywords)]:
                arg_value = arg.value if isinstance(arg, ast.Starred) else arg
                origin = self._taint(arg_value, aliases, local)
                if origin is not None and not helper:
                    self.found.append((origin, self._statement))
            if receiver is not None and isinstance(func, ast.Attribute):
                return None if func.attr in SCOPING_METHODS else receiver
            return None
        if isinstance(expr, ast.Subscript):
            self._use(expr.slice, aliases, local)
            return self._taint(expr.value, aliases, local)
        if isinstance(expr, ast.Lambda):
            self._use(expr.body, dict(aliases), dict(local))
            return None
        if isinstance(expr, ast.NamedExpr):
            origin = self._taint(expr.value, aliases, local)
            if origin is not None:
                local[expr.target.id] = origin
            return origin
        for child in ast.iter_child_nodes(expr):
            if isinstance(child, ast.expr):
                self._use(child, aliases, local)
            elif isinstance(child, ast.comprehension):
                self._use(child.iter, aliases, local)
                for condition in child.ifs:
                    self._use(condition, aliases, local)
        return None


def _last_name(func: ast.expr, names: dict[str, str]) -> str:
    """``get_in_scope`` for ``get_in_scope(…)``, ``permissions.get_in_scope(…)`` or an alias of it."""
    qualified = dotted(func, names)
    if qualified:
        return qualified.rpartition(".")[2]
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _waived(lines: list[str], origin: int, statement: int) -> bool:
    candidates = {origin, origin - 1, statement, statement - 1}
    return any(0 < n <= len(lines) and SCOPED_COMMENT.search(lines[n - 1]) for n in candidates)


def check_module(path: Path, root: Path, index: Index, tenant: set[str]) -> list[Problem]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    checker = ScopeChecker(tree, module_name(path, root), path.name == "__init__.py", index, tenant)
    lines = source.splitlines()
    shown = path.relative_to(root.parent.parent) if root.parent.name == "src" else path.relative_to(root.parent)
    return [
        Problem(str(shown), origin, lines[origin - 1].strip())
        for origin, statement in checker.run()
        if not _waived(lines, origin, statement)
    ]


def iter_interface_modules(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if is_interface(path.relative_to(root.parent)):
            yield path


def check_tree(root: Path) -> tuple[list[Problem], set[str]]:
    index = build_index(root)
    tenant = tenant_models(index)
    problems = [p for path in iter_interface_modules(root) for p in check_module(path, root, index, tenant)]
    return problems, tenant


def main(argv: list[str]) -> int:
    root = Path(argv[1]).resolve() if len(argv) > 1 else ROOT
    problems, tenant = check_tree(root)
    for problem in problems:
        print(problem)
    models = len(tenant - {TENANT_BASE})
    if problems:
        print(
            f"\n{len(problems)} unscoped read(s) of tenant data in interface code or tasks: go through "
            "Model.objects.for_actor(actor, action) or a selector, or say why with '# scoped: <why>'."
        )
        return 1
    print(f"scoping: interface code and tasks read {models} tenant models only through for_actor")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
