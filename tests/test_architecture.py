"""The shape of the code, checked on every run: imports point down the layers, no import cycles, no
database access above the repositories, no oversized modules.

Layers, lowest first (README, Architecture):

    core ← models ← repos ← services ← handlers | webhooks ← miniapp ← bot

A module may import its own package and any package below it; `handlers` and `webhooks` are peers that
never import each other (both call services). Every import counts: module level, inside functions, and
under `if TYPE_CHECKING:` — a type-only import still couples the layers.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"core": 0, "models": 1, "repos": 2, "services": 3, "handlers": 4, "webhooks": 4, "miniapp": 5, "bot": 6}
MAX_LINES = 400

# Known debts, each with its reason. An entry that no longer applies makes its test fail: delete it then.
OVERSIZE_ALLOWED: dict[str, str] = {}
# Cycles tolerated among exactly these modules (none: the booking flow is a table, handlers.flow).
CYCLE_ALLOWED: frozenset[str] = frozenset()
DB_ACCESS_ALLOWED: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    path: str  # file, relative to ROOT
    line: int
    module: str  # the importing module
    target: str  # the imported product module (or the nearest package of what is named)
    named: str = ""  # the module as the import statement names it

    @property
    def shown(self) -> str:
        return self.named or self.target


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _product_files() -> list[Path]:
    return sorted(p for package in LAYERS for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


MODULES = {_module_name(p): p for p in _product_files()}


def _resolve(name: str) -> str | None:
    """The product module `name` denotes (a module, or the nearest package above it); None if not FlyO's."""
    if name.split(".")[0] not in LAYERS:
        return None
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> Iterator[Import]:
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    rel = str(path.relative_to(ROOT))
    for node in ast.walk(tree):  # every import: module level, in functions, under TYPE_CHECKING
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name)
                if target:
                    yield Import(rel, node.lineno, module, target, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package this module is in
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from services import seats` imports the module services.seats; `from services.seats import
                # SeatService` the module services.seats.
                named = f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                target = _resolve(named)
                if target:
                    yield Import(rel, node.lineno, module, target, named)


ALL_IMPORTS = [imp for path in _product_files() for imp in _imports(path)]


def _package(module: str) -> str:
    return module.split(".")[0]


def layer_violations(imports: list[Import]) -> list[str]:
    problems = []
    for imp in imports:
        own, other = _package(imp.module), _package(imp.target)
        if own == other or LAYERS[other] < LAYERS[own]:
            continue
        problems.append(f"{imp.path}:{imp.line} imports {imp.shown}: {own} may not import {other}")
    return problems


def test_imports_point_down_the_layers() -> None:
    problems = layer_violations(ALL_IMPORTS)
    assert not problems, "imports against the layers (core ← models ← repos ← services ← handlers | webhooks ← " \
        "bot):\n" + "\n".join(problems)


def test_the_layer_check_catches_an_upward_import() -> None:
    """The walk sees function-local and TYPE_CHECKING imports, and names the file, line and edge."""
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.config import Settings\n"
              "def f():\n    from handlers.context import FlyOContext\n")
    fake = [Import("services/x.py", node.lineno, "services.x", node.module or "")
            for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom) and node.module != "typing"]
    assert layer_violations(fake) == [
        "services/x.py:3 imports bot.config: services may not import bot",
        "services/x.py:5 imports handlers.context: services may not import handlers",
    ]


def find_cycles(imports: list[Import], allowed: Collection[str] = ()) -> list[tuple[list[str], set[str]]]:
    """One cycle (a path a → b → … → a) per strongly connected group of modules, with the group's members;
    groups made only of `allowed` modules are left out."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.module != imp.target:
            graph.setdefault(imp.module, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm (recursive: the graph is a few hundred modules)
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [(_cycle_in(graph, group), group) for group in groups if not group <= set(allowed)]


def _cycle_in(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.get(node, set()) & group):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a group always has one


def test_no_import_cycles() -> None:
    cycles = find_cycles(ALL_IMPORTS, CYCLE_ALLOWED)
    assert not cycles, "import cycles (function-local and TYPE_CHECKING imports count):\n" + "\n".join(
        f"{' → '.join(path)}  (modules in this cycle: {', '.join(sorted(group))})" for path, group in cycles)


def test_tolerated_cycles_still_exist() -> None:
    in_cycles = {m for _path, group in find_cycles(ALL_IMPORTS) for m in group}
    stale = sorted(CYCLE_ALLOWED - in_cycles)
    assert not stale, f"no cycle left through {stale}: remove them from CYCLE_ALLOWED"


# ---- the booking flow is a table ---------------------------------------------------------------------------
STEP_MODULES = frozenset({"handlers.search", "handlers.return_trip", "handlers.results", "handlers.seats",
                          "handlers.passengers", "handlers.review", "handlers.payment"})
FLOW_TABLE = "handlers.flow"


def test_only_the_flow_table_imports_the_steps() -> None:
    """A step moves on with turn.goto(Step.X); it never calls (so never imports) another step's module."""
    problems = [f"{imp.path}:{imp.line} imports {imp.shown}" for imp in ALL_IMPORTS
                if imp.target in STEP_MODULES and imp.module not in (FLOW_TABLE, imp.target)]
    assert not problems, "step modules imported outside handlers/flow.py:\n" + "\n".join(problems)


def test_the_cycle_check_reports_a_path() -> None:
    imports = [Import("a.py", 1, "services.a", "services.b"), Import("b.py", 1, "services.b", "services.c"),
               Import("c.py", 1, "services.c", "services.a"), Import("c.py", 2, "services.c", "core.clock")]
    cycle = ["services.a", "services.b", "services.c", "services.a"]
    assert find_cycles(imports) == [(cycle, {"services.a", "services.b", "services.c"})]
    assert find_cycles(imports, allowed={"services.a", "services.b", "services.c"}) == []


# ---- the database belongs to repos/ --------------------------------------------------------------------
BEANIE_QUERIES = {"find", "find_one", "find_all", "find_many", "get", "aggregate", "count", "distinct",
                  "insert", "insert_one", "insert_many", "save", "replace", "delete", "delete_all",
                  "update", "update_all", "get_pymongo_collection", "get_motor_collection"}


def _document_names() -> set[str]:
    from models import ALL_DOCUMENTS

    return {model.__name__ for model in ALL_DOCUMENTS}


def db_access(path: Path, documents: set[str]) -> list[str]:
    """`collection(...)`, `<Model>.find(...)`-style Beanie calls, `<Model>(...).insert()` and imports of
    repos.base in one file."""
    found = []
    rel = str(path.relative_to(ROOT))
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "repos.base":
            found.append(f"{rel}:{node.lineno} imports repos.base")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "collection":
            found.append(f"{rel}:{node.lineno} calls collection(...)")
        elif isinstance(func, ast.Attribute) and func.attr in BEANIE_QUERIES:
            owner = func.value
            if isinstance(owner, ast.Call):
                owner = owner.func  # Booking(...).insert()
            if (isinstance(owner, ast.Name) and owner.id in documents) or func.attr == "get_pymongo_collection":
                name = owner.id if isinstance(owner, ast.Name) else "…"
                found.append(f"{rel}:{node.lineno} calls {name}.{func.attr}(...)")
    return found


def test_only_repositories_touch_the_database() -> None:
    documents = _document_names()
    problems = []
    for package in ("services", "handlers", "webhooks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            if rel not in DB_ACCESS_ALLOWED:
                problems += db_access(path, documents)
    assert not problems, "database access outside repos/ (add a named operation to a repository):\n" + \
        "\n".join(problems)


def test_allowed_database_access_is_still_needed() -> None:
    documents = _document_names()
    stale = [rel for rel in DB_ACCESS_ALLOWED if not db_access(ROOT / rel, documents)]
    assert not stale, f"remove from DB_ACCESS_ALLOWED (no database access left): {stale}"


# ---- size ------------------------------------------------------------------------------------------------
def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_product_module_over_400_lines() -> None:
    too_long = [f"{path.relative_to(ROOT)}: {_lines(path)} lines" for path in _product_files()
                if _lines(path) > MAX_LINES and str(path.relative_to(ROOT)) not in OVERSIZE_ALLOWED]
    assert not too_long, f"split these modules (at most {MAX_LINES} lines each):\n" + "\n".join(too_long)


@pytest.mark.parametrize("rel", sorted(OVERSIZE_ALLOWED))
def test_allowed_oversize_is_still_needed(rel: str) -> None:
    assert _lines(ROOT / rel) > MAX_LINES, f"{rel} fits in {MAX_LINES} lines now: remove it from OVERSIZE_ALLOWED"
