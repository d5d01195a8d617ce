#!/usr/bin/env python3
"""Fail when the modules of a package import each other in a cycle, function-level imports included.

Usage: ``python scripts/check_import_cycles.py [package_dir]`` (default ``django_kyc``). Exit status 0 when
the import graph has no cycle, 1 (listing each cycle's modules and the import lines that close it) otherwise.

Why function-level imports count: a lazy ``import`` inside a function only postpones the cycle to the first
call, so layering problems (a model's ``save()`` reaching up into a service) stay invisible to a module-level
check. Imports under ``if TYPE_CHECKING:`` are left out: they never run. An edge goes to the most specific
module an import names (``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to ``a.b``),
as Python's import system and import-linter see it; the parent packages an import also initialises are not
edges, or every ``__init__`` that re-exports a submodule would close a cycle with it.

The graph is read with :mod:`ast` (nothing is imported, so no Django settings are needed) and its strongly
connected components come from Tarjan's algorithm; a component of more than one module, or a module that
imports itself, is a cycle.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module of a (possibly relative) ``from … import``."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def build_graph(root: Path) -> tuple[dict[str, set[str]], dict[tuple[str, str], list[str]]]:
    """(module → modules it imports, (importer, imported) → ``path:line`` of each import making that edge)."""
    files = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in files}
    where: dict[tuple[str, str], list[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(node, name, path.name == "__init__.py")
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            for target in targets:
                while target and target not in files:  # ``import a.b.c`` of a non-module attribute path
                    target = target.rpartition(".")[0]
                if target:
                    graph[name].add(target)
                    places = where.setdefault((name, target), [])
                    if f"{path}:{node.lineno}" not in places:
                        places.append(f"{path}:{node.lineno}")
    return graph, where


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with a cycle (Tarjan, iterative: no recursion limit to hit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "django_kyc").resolve()
    graph, where = build_graph(root)
    found = cycles(graph)
    edges = sum(len(targets) for targets in graph.values())
    if not found:
        print(f"import cycles: none ({len(graph)} modules, {edges} import edges, function-level imports included)")
        return 0
    for number, component in enumerate(found, 1):
        members = set(component)
        print(f"cycle {number}: {len(component)} modules")
        for importer in component:
            for imported in sorted(graph[importer] & members):
                for place in where[(importer, imported)]:
                    print(f"  {importer} -> {imported}  ({os.path.relpath(place)})")
    print(f"import cycles: {len(found)} found", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
