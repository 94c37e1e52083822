"""Packaging: one package in the src layout; the wheel must carry code and data.

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
SRC = ROOT / "src"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _source_packages() -> set[str]:
    """Every folder Python could import: code packages and data folders whose names are
    identifiers (setuptools treats those as namespace packages and warns about any that
    is shipped but not declared); ``rules/uk-gdpr`` and the like are plain data."""
    found = set()
    base = SRC / "sprawl_audit"
    for directory in [base, *(p for p in base.rglob("*") if p.is_dir())]:
        rel = directory.relative_to(SRC)
        if "__pycache__" in rel.parts or not all(p.isidentifier() for p in rel.parts):
            continue
        if not any(f.is_file() for f in directory.rglob("*")):
            continue
        found.add(".".join(rel.parts))
    return found


def test_setuptools_finds_every_package_folder() -> None:
    """The src layout with ``packages.find``: what setuptools discovers is every folder
    Python could import, code and data alike — nothing listed by hand to fall behind."""
    from setuptools.discovery import PEP420PackageFinder

    find = _pyproject()["tool"]["setuptools"]["packages"]["find"]
    assert find["where"] == ["src"]
    found = set(PEP420PackageFinder.find(str(SRC), include=tuple(find["include"])))
    assert _source_packages() - found == set()


def test_nothing_outside_src_is_packaged() -> None:
    """The old layout mapped three top-level folders into the package; they are gone."""
    for old in ("sprawl_audit", "connectors", "rules", "schemas"):
        assert not (ROOT / old).exists(), old


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
    templates = resources.files("sprawl_audit.report.formats") / "templates"
    assert (templates / "report.html.j2").is_file()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel built by setuptools' PEP 517 backend from a copy of the source tree (so
    the checkout gets no build/ or egg-info), and everything the build printed."""
    base = tmp_path_factory.mktemp("wheel")
    src, out = base / "src", base / "out"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    shutil.copytree(SRC, src / "src", ignore=ignore)
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
    for f in (SRC / "sprawl_audit").rglob("*"):
        if f.is_file() and f.suffix in {".yaml", ".json", ".csv", ".md", ".py", ".ps1", ".j2"} \
                and "__pycache__" not in f.parts:
            expected.add("/".join(f.relative_to(SRC).parts))
    missing = sorted(expected - names)
    assert missing == []
