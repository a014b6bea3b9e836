"""Import rules between Warmline's packages, read from the source with ``ast`` (every import,
module-level or inside a function), and a check that the checker reports broken rules.

- console imports none of hub, catalog, escalation, storage (it talks to the hub over HTTP);
- domain imports nothing else of warmline (except ``warmline.resources``);
- catalog, escalation and assist import neither hub nor console;
- hub does not import console (nor the demo, which is wired in warmline.cli);
- storage imports no other warmline package (hub and catalog build on it);
- nothing outside console imports Qt (PySide6, qasync);
- no import cycles between the modules of one package (an import inside a function counts
  too: deferring an import hides a cycle, it does not remove the two-way dependency).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
QT = ("PySide6", "qasync")

# The top-level modules that wire features together (warmline.cli, warmline.demo) are
# imported by no package.
WIRING = ("cli", "demo")
# package -> packages of warmline it must not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "console": ("hub", "catalog", "escalation", "storage", *WIRING),
    "catalog": ("hub", "console", *WIRING),
    "escalation": ("hub", "console", *WIRING),
    "assist": ("hub", "console", *WIRING),
    "hub": ("console", *WIRING),
}
# package -> the only packages of warmline it may import (besides itself)
ONLY: dict[str, tuple[str, ...]] = {
    "domain": ("resources",),
    "storage": (),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. warmline.hub.app
    target: str  # the imported module, e.g. warmline.hub.store.db
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    """Every import in one file, relative ones resolved to absolute names."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    for child in ast.walk(tree):
        if isinstance(child, ast.Import):
            for alias in child.names:
                yield Import(name, alias.name, child.lineno)
        elif isinstance(child, ast.ImportFrom):
            if child.level:
                base = package.split(".")
                base = base[: len(base) - (child.level - 1)]
                target = ".".join(base + ([child.module] if child.module else []))
            else:
                target = child.module or ""
            yield Import(name, target, child.lineno)
            # `from pkg import module` imports pkg.module when that is a module
            for alias in child.names:
                yield Import(name, f"{target}.{alias.name}", child.lineno)


def package_of(module: str, root_package: str) -> str | None:
    """``warmline.hub.store.db`` -> ``hub``; None outside ``root_package``."""
    parts = module.split(".")
    if parts[0] != root_package or len(parts) < 2:
        return None
    return parts[1]


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            strongconnect(v)
    return cycles


def check(root: Path, root_package: str = "warmline") -> list[str]:
    """Every broken rule under ``root/root_package``, one line each (empty when all hold)."""
    files = sorted((root / root_package).rglob("*.py"))
    modules = {module_name(f, root) for f in files}
    problems: list[str] = []
    edges: dict[str, set[str]] = {}
    for path in files:
        for imp in imports_of(path, root):
            where = f"{imp.module}:{imp.line} imports {imp.target}"
            source = package_of(imp.module, root_package)
            if imp.target.split(".")[0] in QT and source != "console":
                problems.append(f"{where}: only the console may import Qt")
            target = package_of(imp.target, root_package)
            if source is None or target is None or target == source:
                if (
                    source is not None
                    and target == source
                    and imp.target in modules
                    and imp.target != imp.module
                    and not imp.module.startswith(imp.target + ".")  # a package's own __init__
                ):
                    edges.setdefault(imp.module, set()).add(imp.target)
                continue
            if target in FORBIDDEN.get(source, ()):
                problems.append(f"{where}: {source} must not import {target}")
            elif source in ONLY and target not in ONLY[source]:
                problems.append(f"{where}: {source} may import only {', '.join(ONLY[source]) or 'itself'}")
    for cycle in find_cycles(edges):
        problems.append(f"import cycle: {' <-> '.join(cycle)}")
    return sorted(set(problems))


def test_warmline_keeps_its_import_rules() -> None:
    problems = check(SRC)
    assert problems == [], "\n".join(problems)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return root


CLEAN = {
    "warmline/__init__.py": "",
    "warmline/resources.py": "",
    "warmline/domain/__init__.py": "",
    "warmline/domain/models.py": "from warmline import resources\n",
    "warmline/storage/__init__.py": "",
    "warmline/storage/engine.py": "import sqlalchemy\n",
    "warmline/hub/__init__.py": "",
    "warmline/hub/app.py": "from warmline.domain.models import x\nfrom warmline.storage.engine import y\n",
    "warmline/catalog/__init__.py": "",
    "warmline/catalog/service.py": "from warmline.storage import engine\n",
    "warmline/console/__init__.py": "",
    "warmline/console/app.py": "from PySide6.QtWidgets import QWidget\nimport httpx\n",
    "warmline/cli.py": "def demo():\n    from warmline.console.app import run\n",
}


def test_the_checker_accepts_a_package_that_keeps_the_rules(tmp_path: Path) -> None:
    assert check(write(tmp_path, CLEAN)) == []


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (
            {"warmline/console/panel.py": "from warmline.hub import app\n"},
            "warmline.console.panel:1 imports warmline.hub: console must not import hub",
        ),
        (
            {"warmline/console/panel.py": "def f():\n    from warmline.storage.engine import y\n"},
            "warmline.console.panel:2 imports warmline.storage.engine: console must not import storage",
        ),
        (
            {"warmline/domain/rules.py": "from ..catalog.service import x\n"},
            "warmline.domain.rules:1 imports warmline.catalog.service: domain may import only resources",
        ),
        (
            {"warmline/catalog/lookup.py": "import warmline.hub.app\n"},
            "warmline.catalog.lookup:1 imports warmline.hub.app: catalog must not import hub",
        ),
        (
            {"warmline/escalation/engine.py": "from warmline.console import app\n"},
            "warmline.escalation.engine:1 imports warmline.console: escalation must not import console",
        ),
        (
            {"warmline/hub/demo.py": "def start():\n    import warmline.console.app\n"},
            "warmline.hub.demo:2 imports warmline.console.app: hub must not import console",
        ),
        (
            {"warmline/hub/commands.py": "import importlib\nfrom warmline.demo import start\n"},
            "warmline.hub.commands:2 imports warmline.demo: hub must not import demo",
        ),
        (
            {"warmline/storage/migrate.py": "from warmline.hub.app import tables\n"},
            "warmline.storage.migrate:1 imports warmline.hub.app: storage may import only itself",
        ),
        (
            {"warmline/hub/tray.py": "import qasync\n"},
            "warmline.hub.tray:1 imports qasync: only the console may import Qt",
        ),
        (
            {
                "warmline/catalog/a.py": "from warmline.catalog import b\n",
                "warmline/catalog/b.py": "from .a import thing\n",
            },
            "import cycle: warmline.catalog.a <-> warmline.catalog.b",
        ),
    ],
    ids=[
        "console-hub",
        "console-storage-lazy",
        "domain",
        "catalog-hub",
        "escalation-console",
        "hub-console",
        "hub-demo",
        "storage-hub",
        "qt-outside-console",
        "cycle",
    ],
)
def test_the_checker_reports_a_broken_rule(tmp_path: Path, broken: dict[str, str], expected: str) -> None:
    problems = check(write(tmp_path, {**CLEAN, **broken}))
    assert expected in problems, problems


def test_an_import_inside_a_function_still_makes_a_cycle(tmp_path: Path) -> None:
    broken = {
        "warmline/catalog/a.py": "from warmline.catalog import b\n",
        "warmline/catalog/b.py": "def f():\n    from warmline.catalog import a\n",
    }
    assert check(write(tmp_path, {**CLEAN, **broken})) == [
        "import cycle: warmline.catalog.a <-> warmline.catalog.b"
    ]
