"""The wheel a user installs: built here with hatchling, unpacked, and imported away from the
source tree, so it shows what ``pip install aio-classify`` would give."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from hatchling.build import build_wheel

from helpers import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    cwd = Path.cwd()
    os.chdir(ROOT)  # hatchling builds the project in the current directory
    try:
        name = build_wheel(str(out))
    finally:
        os.chdir(cwd)
    return out / name


def test_the_wheel_carries_the_license_and_full_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(info).decode())
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
        license_text = archive.read(info.replace("METADATA", "licenses/LICENSE")).decode()
    assert license_text == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in license_text
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Version"] == PROJECT["version"]
    assert metadata["Author"] or metadata["Author-email"]
    assert "Typing :: Typed" in metadata.get_all("Classifier")
    urls = dict(value.split(", ", 1) for value in metadata.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(urls)
    assert "aio-classify = aio_classify.cli:main" in entry_points
    assert "[pytest11]\naio_classify = aio_classify.pytest_plugin" in entry_points
    assert "aio_classify/py.typed" in names


def test_the_installed_version_is_the_distributions(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)  # a pure-python wheel, installed as pip would lay it out
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    where = "import aio_classify; print(aio_classify.__file__, aio_classify.__version__)"
    module_file, version = run("-c", where).split()
    assert Path(module_file).is_relative_to(site)
    assert version == PROJECT["version"]
    assert run("-m", "aio_classify", "--version") == f"aio-classify {PROJECT['version']}\n"
