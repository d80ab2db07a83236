"""The layers the README draws hold: each module imports only modules of its own layer or the
ones below, and no two modules import each other, directly or round a circle, even through an
import inside a function. A module the table below does not place fails, so a new module is
placed on purpose (and the README's drawing kept true)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import ROOT

PACKAGE = ROOT / "aio_classify"

#: Bottom to top, as README's "How the code is laid out" draws them. A prefix ending in "."
#: places a whole package.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("aio_classify._core.",),
    ("aio_classify._decode.",),
    ("aio_classify._validation",),
    ("aio_classify._observe.",),
    ("aio_classify._http.",),
    ("aio_classify.webhooks",),
    ("aio_classify._jobs.",),
    ("aio_classify._client", "aio_classify"),
    (
        "aio_classify.cli",
        "aio_classify.cli.",
        "aio_classify.__main__",
        "aio_classify.testing",
        "aio_classify.testing.",
        "aio_classify._fake_server_options",
        "aio_classify.pytest_plugin",
        "aio_classify.sync",
        "aio_classify._sync.",
        "aio_classify.redis",
        "aio_classify._redis.",
    ),
)
#: The fake server is an honest oracle only if it shares no wire code with the client.
FAKE_MAY_IMPORT = ("aio_classify.testing", "aio_classify._fake_server_options")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    for index, layer in enumerate(LAYERS):
        for entry in layer:
            if module == entry.rstrip(".") or (entry.endswith(".") and module.startswith(entry)):
                return index
    raise AssertionError(f"{module} has no place in tests/test_layers.py LAYERS")


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports anywhere in its source (functions and
    ``TYPE_CHECKING`` blocks included), resolved to module names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from . import _seed`` names a module; ``from .x import Name`` names x (the
            # search below trims a name that is not a module back to its module).
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: imports_of(path, modules) for name, path in paths.items()}


def test_every_module_has_a_layer() -> None:
    for module in import_graph():
        layer_of(module)


@pytest.mark.parametrize("module", sorted(import_graph()))
def test_imports_go_only_downward(module: str) -> None:
    graph = import_graph()
    upward = sorted(t for t in graph[module] if layer_of(t) > layer_of(module))
    assert upward == [], f"{module} imports from layers above it: {upward}"


def test_no_import_circle() -> None:
    graph = import_graph()
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            circle = [*trail[trail.index(module) :], module]
            raise AssertionError("import circle: " + " -> ".join(circle))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_the_fake_shares_no_code_with_the_client() -> None:
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith("aio_classify.testing"):
            foreign = sorted(
                t for t in targets if not any(t.startswith(ok) for ok in FAKE_MAY_IMPORT)
            )
            assert foreign == [], f"{module} imports client code: {foreign}"
