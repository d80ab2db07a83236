"""The public surface is explicit: users import from a handful of modules, each says what it
exports in ``__all__``, the API reference documents exactly those names, and every other module
of the package is private by name (a leading underscore somewhere in its dotted path), so nothing
internal looks importable. In the manner of httpx's ``tests/test_exported_members.py``."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import aio_classify

from helpers import ROOT

#: The modules users import; each has an ``__all__``.
PUBLIC_MODULES = (
    "aio_classify",
    "aio_classify.cli",
    "aio_classify.pytest_plugin",
    "aio_classify.sync",
    "aio_classify.testing",
    "aio_classify.webhooks",
    "aio_classify.redis",
)
#: Public by name but not for importing: ``python -m`` entry points.
ENTRY_POINTS = ("aio_classify.__main__", "aio_classify.testing.__main__")
#: Where the API reference names each public module's members (``::: module.Name``).
REFERENCE = ROOT / "docs" / "reference"
#: Public modules documented elsewhere than the API reference (the CLI has its own guide).
NOT_IN_REFERENCE = ("aio_classify.cli",)


def all_modules() -> list[str]:
    return ["aio_classify"] + [
        info.name for info in pkgutil.walk_packages(aio_classify.__path__, "aio_classify.")
    ]


def test_every_module_outside_the_public_set_is_private_by_name() -> None:
    exposed = [
        name
        for name in all_modules()
        if name not in PUBLIC_MODULES + ENTRY_POINTS
        and not any(part.startswith("_") for part in name.split(".")[1:])
    ]
    assert exposed == [], f"internal modules without a leading underscore: {exposed}"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_names_exist_and_cover_every_public_attribute(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    missing = sorted(item for item in exported if not hasattr(module, item))
    assert missing == [], f"{name}.__all__ names what it lacks: {missing}"
    # Anything public-looking that the module defines itself must be exported (imports of
    # other modules' names, and submodules, are not the module's own; pytest's hooks are
    # called by pytest, not imported).
    own = {
        item
        for item, value in vars(module).items()
        if not item.startswith(("_", "pytest_"))
        and getattr(value, "__module__", None) == name
        and not isinstance(value, type(module))
    }
    assert own <= exported, f"{name} defines public names it does not export: {own - exported}"


def documented_names() -> dict[str, set[str]]:
    """``::: aio_classify.webhooks.parse_event`` -> {"aio_classify.webhooks": {"parse_event"}};
    a module directive with ``members:`` lists its members below it."""
    found: dict[str, set[str]] = {}
    for page in REFERENCE.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"^::: ([\w.]+)((?:\n {4}.*)*)", text, flags=re.MULTILINE):
            target, options = match.group(1), match.group(2)
            if target in PUBLIC_MODULES:
                members = re.findall(r"^ {8}- (\w+)$", options, flags=re.MULTILINE)
                found.setdefault(target, set()).update(members)
                continue
            module, _, item = target.rpartition(".")
            if any(part.startswith("_") for part in target.split(".")[1:]):
                continue  # a private base documented for its methods (models.Record)
            found.setdefault(module, set()).add(item)
    return found


@pytest.mark.parametrize("name", [m for m in PUBLIC_MODULES if m not in NOT_IN_REFERENCE])
def test_the_reference_documents_exactly_what_all_exports(name: str) -> None:
    module = importlib.import_module(name)
    documented = documented_names().get(name, set())
    assert set(module.__all__) == documented, (
        f"{name}: exported but not in docs/reference: {sorted(set(module.__all__) - documented)};"
        f" documented but not exported: {sorted(documented - set(module.__all__))}"
    )


def test_the_reference_names_only_public_modules() -> None:
    strays = sorted(set(documented_names()) - set(PUBLIC_MODULES))
    assert strays == [], f"docs/reference documents names of non-public modules: {strays}"
