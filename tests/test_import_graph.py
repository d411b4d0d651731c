"""The package's modules form a layered graph: no import cycle, including imports hidden inside functions."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import simrank

PACKAGE_DIR = Path(simrank.__file__).parent
PYPROJECT = PACKAGE_DIR.parent / "pyproject.toml"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, modules: set[str]) -> set[str]:
    """The simrank modules that ``source`` imports anywhere (top level or inside functions).

    ``from simrank import theory`` is an edge into the submodule ``simrank.theory``; ``import simrank`` and
    ``from simrank import __version__`` (a name defined by the package root) are edges into the root ``simrank``."""
    targets = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                targets.add(submodule if submodule in modules else node.module)
    return targets & modules


def import_graph() -> dict[str, set[str]]:
    """Module -> the simrank modules it imports (:func:`imported_modules`), edges into the root ``simrank`` included."""
    modules = {module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}
    return {name: imported_modules(path.read_text(), set(modules)) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first = last), or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_module_imports_the_package_root():
    """The root only re-exports; a module that imports it closes a cycle through the root's own imports
    (``simrank`` -> ``sweep`` -> ``executors`` -> ``runner`` -> ``simrank`` was one, for ``__version__``)."""
    graph = import_graph()
    importers = sorted(name for name, targets in graph.items() if "simrank" in targets)
    assert not importers, f"modules importing the package root: {importers}"


def test_root_edges_are_counted():
    modules = {"simrank", "simrank.theory", "simrank.runner"}
    assert imported_modules("from simrank import __version__", modules) == {"simrank"}
    assert imported_modules("def f():\n    import simrank", modules) == {"simrank"}
    assert imported_modules("from simrank import theory", modules) == {"simrank.theory"}
    assert imported_modules("import simrank.runner\nimport numpy", modules) == {"simrank.runner"}
    graph = {"simrank": {"simrank.sweep"}, "simrank.sweep": {"simrank.runner"}, "simrank.runner": {"simrank"}}
    assert find_cycle(graph) == ["simrank", "simrank.sweep", "simrank.runner", "simrank"]


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_every_package_is_installed():
    """Each folder with an ``__init__.py`` under simrank/ is listed in pyproject's explicit packages."""
    listed = set(tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["packages"])
    found = {module_name(p) for p in PACKAGE_DIR.rglob("__init__.py")}
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"


def test_every_module_declares_all():
    """Each module states its public names (``__all__``); ``__main__`` only runs the CLI and ``_version`` only
    holds ``__version__``."""
    missing = [
        module_name(path)
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        if path.name not in ("__main__.py", "_version.py")
        and not any(
            isinstance(node, (ast.Assign, ast.AnnAssign))
            and any(
                isinstance(t, ast.Name) and t.id == "__all__"
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            )
            for node in ast.parse(path.read_text()).body
        )
    ]
    assert not missing, f"modules without __all__: {missing}"
