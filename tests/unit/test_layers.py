"""The package's layers, declared once: a module imports only from its own layer or from
layers below it, and no import cycle exists anywhere (imports inside functions count).

README.md's "Architecture" section draws the same picture; this list is the one that holds.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src"

# Lowest first. A module belongs to the first layer with a prefix matching its name.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("treasure._version", "treasure.errors", "treasure.quantities",
              "treasure.routing", "treasure.pacing", "treasure.results", "treasure.files",
              "treasure.disk_budget", "treasure.shards", "treasure.growth",
              "treasure.interleaved", "treasure.percentiles")),
    ("result readers", ("treasure.metrics", "treasure.budgets", "treasure.gate",
                        "treasure.report")),
    ("inputs", ("treasure.capture", "treasure.recordings", "treasure.recording_format",
                "treasure.recording_writer", "treasure.recording_stats", "treasure.scenarios",
                "treasure.generator", "treasure.importers", "treasure.capture", "treasure.parsers",
                "treasure.sessions")),
    ("probes", ("treasure.probes",)),
    ("passes", ("treasure.passes",)),
    ("targets", ("treasure.targets",)),
    ("runs", ("treasure.runner", "treasure.merge", "treasure.cluster")),
    ("library API", ("treasure.api", "treasure.testing", "treasure.pytest_plugin")),
    ("command line", ("treasure.cli",)),
    ("package", ("treasure",)),  # its __init__ alone: it re-exports the library API
]  # fmt: skip
PACKAGE = "treasure"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def owning_module(name: str) -> str | None:
    """The treasure module an imported name lives in (a module, or its package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imported_names(name: str, path: Path) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:  # `from pkg import module` imports that module
                full = f"{base}.{alias.name}"
                yield full if full in MODULES else base


def dependencies(name: str) -> set[str]:
    found = {owning_module(imported) for imported in imported_names(name, MODULES[name])}
    return {module for module in found if module is not None and module != name}


def layer_of(name: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(name == p or (p != PACKAGE and name.startswith(p + ".")) for p in prefixes):
            return index
    raise AssertionError(f"{name} is in no declared layer: add it to LAYERS")


GRAPH = {name: dependencies(name) for name in MODULES}


def test_every_module_belongs_to_a_layer() -> None:
    assert len(MODULES) > 40  # the scan found the package
    for name in MODULES:
        layer_of(name)


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_no_import_reaches_a_higher_layer(name: str) -> None:
    upward = sorted(dep for dep in GRAPH[name] if layer_of(dep) > layer_of(name))
    assert upward == [], f"{name} ({LAYERS[layer_of(name)][0]}) imports {upward}"


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path whose last module imports its first, or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep) :]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_there_is_no_import_cycle() -> None:
    assert find_cycle(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    given = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(given) == ["a", "b", "c"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
