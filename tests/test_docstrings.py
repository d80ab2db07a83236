"""Every public name has a docstring, so the API reference (generated from them by mkdocstrings)
documents everything a user can import; a new name without one fails here.

Public: each name in the ``__all__`` of the modules users import, and for each class, the
public methods and properties it or a base of ours defines, and its attrs fields (named in the
class docstring's ``Attributes:`` section). A constant's docstring is the string literal right
after its assignment, as mkdocstrings reads it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import pkgutil
import re
from collections.abc import Iterator
from types import ModuleType

import attrs
import pytest

import aio_classify

from helpers import ROOT

PUBLIC_MODULES = [
    "aio_classify",
    "aio_classify.testing",
    "aio_classify.pytest_plugin",
    "aio_classify.sync",
    "aio_classify.redis",
]
OPTIONAL_MODULES = ["aio_classify.webhooks"]  # added by another change; walked once it exists


def public_modules() -> list[ModuleType]:
    modules = [importlib.import_module(name) for name in PUBLIC_MODULES]
    for name in OPTIONAL_MODULES:
        if importlib.util.find_spec(name) is not None:
            modules.append(importlib.import_module(name))
    return modules


def constant_docstrings() -> dict[str, str]:
    """Module-level ``NAME = ...`` followed by a string literal, across the package."""
    found: dict[str, str] = {}
    for info in pkgutil.walk_packages(aio_classify.__path__, "aio_classify."):
        if info.name.endswith("__main__"):  # importing it would run the command line
            continue
        source = inspect.getsource(importlib.import_module(info.name))
        body = ast.parse(source).body
        for statement, following in itertools.pairwise(body):
            targets = (
                statement.targets
                if isinstance(statement, ast.Assign)
                else [statement.target]
                if isinstance(statement, ast.AnnAssign)
                else []
            )
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                for target in targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = following.value.value
    return found


def has_doc(obj: object) -> bool:
    doc = obj.__doc__ if not isinstance(obj, type) else obj.__dict__.get("__doc__")
    return bool(doc and doc.strip())


def class_members(cls: type) -> Iterator[tuple[str, object]]:
    """Public methods and properties defined by ``cls`` or a base from this package."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("aio_classify"):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if inspect.isfunction(member) or isinstance(member, property):
                yield name, member


def undocumented() -> list[str]:
    constants = constant_docstrings()
    missing: list[str] = []
    for module in public_modules():
        for name in module.__all__:
            obj = getattr(module, name)
            where = f"{module.__name__}.{name}"
            if isinstance(obj, type):
                if not has_doc(obj):
                    missing.append(where)
                for member_name, member in class_members(obj):
                    if not has_doc(member):
                        missing.append(f"{where}.{member_name}")
                if attrs.has(obj):
                    doc = obj.__dict__.get("__doc__") or ""
                    for field in attrs.fields(obj):
                        if f"{field.name}:" not in doc:
                            missing.append(f"{where}.{field.name} (not in Attributes:)")
            elif callable(obj):  # a function, or a pytest fixture wrapping one
                if not has_doc(obj):
                    missing.append(where)
            elif not constants.get(name, "").strip():
                missing.append(where)
    return sorted(set(missing))


def test_every_public_name_has_a_docstring() -> None:
    assert undocumented() == []


def test_the_api_reference_renders_every_public_name() -> None:
    reference = "".join(
        page.read_text(encoding="utf-8") for page in (ROOT / "docs" / "reference").glob("*.md")
    )
    rendered = set(re.findall(r"^::: ([\w.]+)$", reference, re.M))
    plugin = importlib.import_module("aio_classify.pytest_plugin")
    missing = [
        f"{module.__name__}.{name}"
        for module in public_modules()
        if module is not plugin  # rendered whole, with its members listed under it
        for name in module.__all__
        if f"{module.__name__}.{name}" not in rendered
    ]
    assert missing == []
    assert "aio_classify.pytest_plugin" in rendered


def test_the_walk_sees_the_names_it_must() -> None:
    """Guards the walker itself: it must reach methods, properties, fields and constants."""
    names = {f"{m.__name__}.{n}" for m in public_modules() for n in m.__all__}
    assert {"aio_classify.ClassifyClient", "aio_classify.testing.FakeClassifyServer"} <= names
    assert {"pages", "first_page"} <= set(dict(class_members(aio_classify.JobPager)))
    assert {"to_dict", "from_dict"} <= set(dict(class_members(aio_classify.ClassifyJob)))
    assert "url" in dict(class_members(aio_classify.testing.FakeClassifyServer))
    assert "DEFAULT_BASE_URL" in constant_docstrings()


def test_a_missing_docstring_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aio_classify.JobPager.first_page, "__doc__", None)
    monkeypatch.setattr(aio_classify.ClassifyRule, "__doc__", "No attributes section.")
    assert undocumented() == [
        "aio_classify.ClassifyRule.description (not in Attributes:)",
        "aio_classify.ClassifyRule.type (not in Attributes:)",
        "aio_classify.JobPager.first_page",
    ]
