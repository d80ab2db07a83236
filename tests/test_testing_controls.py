"""The table of the fake's controls: each one served, backed by a server member that takes its
arguments, documented in every copy of the route tables, and holding the ranges it documents."""

from __future__ import annotations

import inspect
import re
from typing import Any

import aiohttp
import pytest

import aio_classify.testing
from aio_classify.testing import FakeClassifyServer
from aio_classify.testing._admin_args import Arg, Integer, NullableNumber, Number, Text
from aio_classify.testing._controls import CONTROLS, Control, markdown

from helpers import ROOT, admin_routes

DOCUMENTED_ROW = re.compile(r"^\| `(GET|POST) (/_fake/[^` ]+)` \|", re.M)
DOCS = [
    pytest.param((ROOT / "README.md").read_text(encoding="utf-8"), id="README"),
    pytest.param(
        (ROOT / "docs" / "guides" / "testing.md").read_text(encoding="utf-8"),
        id="docs/guides/testing.md",
    ),
    pytest.param(aio_classify.testing.__doc__ or "", id="aio_classify.testing"),
]


def test_every_control_is_served_and_every_admin_route_is_a_control() -> None:
    routes = [control.route for control in CONTROLS]
    assert len(routes) == len(set(routes))
    assert set(routes) == admin_routes(FakeClassifyServer())


@pytest.mark.parametrize("control", CONTROLS, ids=lambda control: control.route)
def test_every_control_calls_a_server_member_that_takes_its_arguments(control: Control) -> None:
    member = getattr(FakeClassifyServer(), control.calls)
    if callable(member):
        names = [arg.name for arg in control.args]
        names += ["job_id"] if "{job_id}" in control.path else []
        inspect.signature(member).bind(**dict.fromkeys(names))


@pytest.mark.parametrize("text", DOCS)
def test_the_docs_route_tables_are_the_ones_made_from_the_controls(text: str) -> None:
    """On failure, paste ``markdown()`` over the tables (from "Jobs (moving ...")."""
    assert markdown() in text
    documented = [f"{verb} {path}" for verb, path in DOCUMENTED_ROW.findall(text)]
    assert sorted(documented) == sorted(control.route for control in CONTROLS)


def _ranged(control: Control) -> list[Arg]:
    return [arg for arg in control.args if isinstance(arg, Integer | Number)]


def _valid(arg: Arg) -> Any:
    """A value the argument accepts, for the required fields around the one under test."""
    if isinstance(arg, Integer):
        return arg.minimum
    return None if isinstance(arg, NullableNumber) else "list"


def _required(arg: Arg) -> bool:
    return (
        isinstance(arg, NullableNumber)
        or (isinstance(arg, Integer) and arg.default is None)
        or (isinstance(arg, Text) and arg.required)
    )


RANGED = [
    pytest.param(control, arg, id=f"{control.route} {arg.name}")
    for control in CONTROLS
    for arg in _ranged(control)
    if control.verb == "POST"
]


@pytest.mark.parametrize(("control", "arg"), RANGED)
async def test_a_value_beyond_the_documented_range_is_a_422_naming_the_field(
    server: FakeClassifyServer, http: aiohttp.ClientSession, control: Control, arg: Arg
) -> None:
    assert isinstance(arg, Integer | Number)
    body = {other.name: _valid(other) for other in control.args if _required(other)}
    body[arg.name] = arg.maximum + 1
    path = "/_fake/" + control.path.replace("{job_id}", "cls-unknown")
    async with http.post(path, json=body) as resp:
        assert resp.status == 422, await resp.text()
        (error,) = (await resp.json())["detail"]
    assert error["loc"] == ["body", arg.name]
    assert server.job_ids == []
    assert len(server.faults) == 0
