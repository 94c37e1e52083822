"""Packaging: three top-level folders map into one package; the wheel must carry the data.

CI tests a regular (non-editable) install, where a folder missing from pyproject's
package list or a data glob that misses a file only shows up as a runtime error on a
user's machine. These tests catch both from the source tree.
"""

from __future__ import annotations

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
    found = set()
    for package, folder in MAPPING.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([package, *rel.parts]) if rel.parts else package)
    return found


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    assert _source_packages() - listed == set()
    assert listed - _source_packages() == set()


def test_installed_package_exposes_its_data() -> None:
    assert (resources.files("sprawl_audit.rules") / "baseline" / "pack.yaml").is_file()
    assert (resources.files("sprawl_audit.schemas") / "result.schema.json").is_file()
    assert any(p.name.endswith(".yaml")
               for p in (resources.files("sprawl_audit.catalog") / "data").iterdir())


@pytest.mark.slow
def test_wheel_contains_every_data_file(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("sprawl_audit-*.whl"))
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
