"""The layers import one way: this test fails, naming the file, line and import, when a
package reaches a package it must not, and when speech's modules import each other in a
circle.

    cli  ->  rest  ->  realtime, workers  ->  speech, storage
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {
    "cli",
    "rest",
    "realtime",
    "workers",
    "speech",
    "storage",
    "web",
    "bench",
    "tests",
    "deploy",
}
# What each package may not import (imports inside functions and under TYPE_CHECKING count).
FORBIDDEN = {
    "speech": FIRST_PARTY - {"speech"},
    "storage": FIRST_PARTY - {"storage"},
    "workers": FIRST_PARTY - {"workers", "speech", "storage"},
    "realtime": FIRST_PARTY - {"realtime", "speech", "storage"},
    "rest": {"cli", "bench", "tests", "deploy"},
    "web": FIRST_PARTY - {"web"},
    "cli": {"bench", "tests", "deploy"},
    # Runs Parley as processes, as compose.yaml does, and imports none of it.
    "deploy": FIRST_PARTY - {"deploy"},
}


def imports(source: str, module: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) of every import in `source`, relative ones resolved against
    `module` (the dotted name of the file)."""
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def modules(package: str) -> Iterator[tuple[Path, str]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        yield path, ".".join(relative.parts).removesuffix(".__init__")


def violations(package: str, source: str, module: str, label: str) -> list[str]:
    return [
        f"{label}:{line}: {package} imports {name}"
        for line, name in imports(source, module)
        if name.split(".")[0] in FORBIDDEN[package]
    ]


def test_every_package_imports_only_the_layers_below_it() -> None:
    found: list[str] = []
    for package in FORBIDDEN:
        for path, module in modules(package):
            label = str(path.relative_to(ROOT))
            found += violations(package, path.read_text(), module, label)
    assert found == []


def test_the_rule_catches_a_forbidden_import() -> None:
    # The check itself must see imports wherever they hide, or the test above proves nothing.
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from realtime.hub import Hub\n"
        "def f() -> None:\n    import rest.app\n"
        "from storage import models\n"
    )
    assert violations("workers", source, "workers.x", "x.py") == [
        "x.py:3: workers imports realtime.hub",
        "x.py:3: workers imports realtime.hub.Hub",
        "x.py:5: workers imports rest.app",
    ]


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph`, as the modules along it, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_speech_modules_import_each_other_without_a_circle() -> None:
    names = {module for _, module in modules("speech")}
    graph: dict[str, set[str]] = {}
    for path, module in modules("speech"):
        targets = set()
        for _, name in imports(path.read_text(), module):
            while name and name not in names:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    assert cycle(graph) is None
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
