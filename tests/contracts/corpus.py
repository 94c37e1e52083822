"""Loading the contract corpus: vendor-documented answers, each beside its provenance.

Every sample ``<source>/<name>.<ext>`` (JSON, CSV or a raw multipart body) has a sidecar
``<source>/<name>.source.yaml`` naming the vendor page it was written from (``source``),
the day that page was consulted (``consulted``), the request it answers and what the
shape shows. The samples are written by hand from the documented fields, so the tests
that feed them to the transforms check the code against the vendor's description of the
service rather than against fakes written by the same hands as the connectors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent
SOURCES = ("m365", "google", "slack", "whatsapp")
SAMPLE_SUFFIXES = (".json", ".csv", ".multipart")


@dataclass(frozen=True)
class Sample:
    """One documented answer and its sidecar."""

    path: Path
    meta: Mapping[str, Any]

    @property
    def key(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"

    def text(self) -> str:
        """The body as text; a byte-order mark is kept, as a download would have it."""
        return self.path.read_bytes().decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.path.read_text(encoding="utf-8"))


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.stem + ".source.yaml")


def samples(source: str | None = None) -> Iterator[Sample]:
    """Every sample of one source (or of all), in name order."""
    for folder in (source,) if source else SOURCES:
        for path in sorted((ROOT / folder).iterdir()):
            if path.suffix in SAMPLE_SUFFIXES:
                yield Sample(path, read_meta(sidecar_of(path)))


def read_meta(path: Path) -> Mapping[str, Any]:
    if not path.exists():
        return {}
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    return meta if isinstance(meta, Mapping) else {}


def load(key: str) -> Sample:
    """``load("m365/users-selected")``: the sample with that folder and stem."""
    folder, _, stem = key.partition("/")
    for path in (ROOT / folder).glob(stem + ".*"):
        if path.suffix in SAMPLE_SUFFIXES:
            return Sample(path, read_meta(sidecar_of(path)))
    raise FileNotFoundError(f"no contract sample {key}")


def consulted(meta: Mapping[str, Any]) -> date | None:
    value = meta.get("consulted")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def keys_in(value: Any) -> set[str]:
    """Every object key anywhere in a JSON value."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            found.update(str(k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
