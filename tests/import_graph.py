"""The package's import graph, read with ``ast`` (nothing is imported): tests/test_package.py checks
that imports only go down (docs/guide/design.md: Layout) and that no import circle exists.

Nodes are the package's modules (a package is its ``__init__``; a compiled extension, its ``.pyi``). An edge is any ``import`` or
``from ... import`` of a package module, at module level or deferred inside a function; imports under
``if TYPE_CHECKING:`` are annotations only and are left out. ``from pkg import name`` is an edge to
``pkg.name`` when that is a module, else to ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path


def _modules(root: Path, package: str) -> dict[str, Path]:
    """Every module: the .py files, and the compiled extensions through their .pyi stubs (leaves)."""
    found = {}
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.pyi")]):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([package, *parts])] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module) -> list[tuple[ast.stmt, bool]]:
    """Every import statement with whether it runs at import time (not inside a function)."""
    found: list[tuple[ast.stmt, bool]] = []

    def visit(node: ast.AST, deferred: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for grandchild in child.orelse:
                    visit_one(grandchild, deferred)
                continue
            visit_one(child, deferred)

    def visit_one(child: ast.AST, deferred: bool) -> None:
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found.append((child, not deferred))
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            visit(child, True)
        else:
            visit(child, deferred)

    visit(tree, False)
    return found


def import_graph(root: Path, package: str, *, deferred: bool = True) -> dict[str, set[str]]:
    """module -> the package modules it imports (``deferred=False``: only those imported at import time)."""
    modules = _modules(root, package)

    def nearest(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        if path.suffix == ".pyi":
            continue
        is_package = path.name == "__init__.py"
        for node, at_import in _imports(ast.parse(path.read_text(), str(path))):
            if not (at_import or deferred):
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    where = ".".join(base + ([node.module] if node.module else []))
                else:
                    where = node.module or ""
                for alias in node.names:
                    full = f"{where}.{alias.name}"
                    targets.append(full if full in modules else where)
            for target in targets:
                if target == package or target.startswith(package + "."):
                    hit = nearest(target)
                    if hit is not None and hit != name:
                        graph[name].add(hit)
    return graph


def unresolved(root: Path, package: str) -> list[str]:
    """Imports of package modules that do not exist (a stale path after a move: a deferred import
    fails only when its function runs). ``from a.b import c`` needs module a.b; ``import a.b``, a.b."""
    modules = _modules(root, package)
    missing = []
    for name, path in modules.items():
        if path.suffix == ".pyi":
            continue
        is_package = path.name == "__init__.py"
        for node, _ in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                wanted = [alias.name for alias in node.names]
            elif node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                wanted = [".".join(base + ([node.module] if node.module else []))]
            else:
                wanted = [node.module or ""]
            for target in wanted:
                if (target == package or target.startswith(package + ".")) and target not in modules:
                    missing.append(f"{path.relative_to(root)}:{node.lineno}: {target}")
    return missing


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None (depth-first search, three colours)."""
    colour = dict.fromkeys(graph, 0)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt, 0) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if colour.get(nxt, 0) == 0:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if colour[node] == 0:
            found = visit(node)
            if found:
                return found
    return None


def collapse(graph: dict[str, set[str]], unit_of) -> dict[str, set[str]]:
    """The graph between units (``unit_of(module)``: an area, core, or a top-level module)."""
    units: dict[str, set[str]] = {}
    for node, targets in graph.items():
        units.setdefault(unit_of(node), set())
        for t in targets:
            if unit_of(t) != unit_of(node):
                units[unit_of(node)].add(unit_of(t))
    return units
