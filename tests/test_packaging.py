"""Packaging: three top-level folders map into one package; the wheel must carry the data.

CI tests a regular (non-editable) install, where a folder missing from pyproject's
package list or a data glob that misses a file only shows up as a runtime error on a
user's machine. These tests catch both from the source tree, and keep the install quiet:
building the wheel must print no setuptools warning (a deprecated licence table or an
undeclared data folder once made ``make demo`` print ~500 lines before the report).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the check needs only one version

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"sprawl_audit": "sprawl_audit", "sprawl_audit.connectors": "connectors",
           "sprawl_audit.rules": "rules", "sprawl_audit.schemas": "schemas"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _source_packages() -> set[str]:
    """Every folder Python could import: code packages and data folders whose names are
    identifiers (setuptools treats those as namespace packages and warns about any that
    is shipped but not declared); ``rules/uk-gdpr`` and the like are plain data."""
    found = set()
    for package, folder in MAPPING.items():
        base = ROOT / folder
        for directory in [base, *(p for p in base.rglob("*") if p.is_dir())]:
            rel = directory.relative_to(base)
            if "__pycache__" in rel.parts or not all(p.isidentifier() for p in rel.parts):
                continue
            if not any(f.is_file() for f in directory.rglob("*")):
                continue
            found.add(".".join([package, *rel.parts]) if rel.parts else package)
    return found


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    assert _source_packages() - listed == set()
    assert listed - _source_packages() == set()


def test_licence_is_an_spdx_expression() -> None:
    """PEP 639: a table is deprecated (setuptools warns on every build); a string needs
    setuptools 77 or later, which the build requirement must then ask for."""
    project = _pyproject()
    assert project["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in project["build-system"]["requires"]
    assert not any(c.startswith("License ::") for c in project["project"]["classifiers"])


def test_installed_package_exposes_its_data() -> None:
    assert (resources.files("sprawl_audit.rules") / "baseline" / "pack.yaml").is_file()
    assert (resources.files("sprawl_audit.schemas") / "result.schema.json").is_file()
    assert any(p.name.endswith(".yaml")
               for p in (resources.files("sprawl_audit.catalog") / "data").iterdir())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel built by setuptools' PEP 517 backend from a copy of the source tree (so
    the checkout gets no build/ or egg-info), and everything the build printed."""
    base = tmp_path_factory.mktemp("wheel")
    src, out = base / "src", base / "out"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in MAPPING.values():
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    out.mkdir()
    # PYTHONDONTWRITEBYTECODE makes distutils print "warning: byte-compiling is disabled":
    # that is the environment talking, not the project.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    build = "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", build, str(out)],
        cwd=src, env=env, capture_output=True, text=True, timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    return next(out.glob("sprawl_audit-*.whl")), output


@pytest.mark.slow
def test_building_the_wheel_prints_no_setuptools_warning(built: tuple[Path, str]) -> None:
    _wheel, output = built
    warnings = [line.strip() for line in output.splitlines()
                if re.search(r"warning", line, re.IGNORECASE)]
    assert warnings == []


@pytest.mark.slow
def test_wheel_contains_every_data_file(built: tuple[Path, str]) -> None:
    wheel, _output = built
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for package, folder in MAPPING.items():
        for f in (ROOT / folder).rglob("*"):
            if f.is_file() and f.suffix in {".yaml", ".json", ".csv", ".md", ".py"} \
                    and "__pycache__" not in f.parts:
                rel = f.relative_to(ROOT / folder)
                expected.add("/".join([*package.split("."), *rel.parts]))
    missing = sorted(expected - names)
    assert missing == []
