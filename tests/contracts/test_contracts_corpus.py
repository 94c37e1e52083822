"""The contract corpus keeps its own rules: provenance, coverage, documented absences.

A sample without a vendor page and a date cannot be re-checked when the vendor changes
its documentation; a sample no test reads checks nothing; and a corpus in which every
optional field is present cannot catch code that assumes it always is.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlsplit

import pytest
from corpus import ROOT, SOURCES, Sample, consulted, keys_in, samples, sidecar_of

ALL = list(samples())
MINIMUM_PER_SOURCE = 10


def test_every_live_source_has_at_least_ten_documented_samples() -> None:
    counts = {source: sum(1 for s in ALL if s.path.parent.name == source)
              for source in SOURCES}
    assert all(n >= MINIMUM_PER_SOURCE for n in counts.values()), counts


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.key)
def test_each_sample_names_its_vendor_page_and_the_day_it_was_consulted(sample: Sample) -> None:
    assert sample.meta, f"{sample.key}: no sidecar {sidecar_of(sample.path).name}"
    url = urlsplit(str(sample.meta.get("source", "")))
    assert url.scheme == "https" and url.netloc, f"{sample.key}: source is not a URL"
    assert consulted(sample.meta) is not None, f"{sample.key}: consulted is not a date"
    assert str(sample.meta.get("shape", "")).strip(), f"{sample.key}: say what it shows"


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.key)
def test_each_sample_is_read_by_a_contract_test(sample: Sample) -> None:
    source = sample.path.parent.name
    tests = (ROOT / f"test_contracts_{source}.py").read_text(encoding="utf-8")
    assert f'"{sample.key}"' in tests, f"{sample.key} is read by no test"


@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.key)
def test_declared_absent_fields_are_really_absent(sample: Sample) -> None:
    absent = sample.meta.get("absent") or []
    assert isinstance(absent, list)
    if sample.path.suffix == ".json":
        present = keys_in(json.loads(sample.text()))
    elif sample.path.suffix == ".csv":
        present = set(next(csv.reader(io.StringIO(sample.text().lstrip("\ufeff")))))
    else:
        present = set()
    assert not set(absent) & present, f"{sample.key}: declared absent but present"


@pytest.mark.parametrize("source", SOURCES)
def test_each_source_has_a_sample_without_an_optional_field(source: str) -> None:
    assert any(s.meta.get("absent") for s in ALL if s.path.parent.name == source)


def test_no_sidecar_is_left_without_its_sample() -> None:
    for source in SOURCES:
        stems = {s.path.stem for s in ALL if s.path.parent.name == source}
        for side in (ROOT / source).glob("*.source.yaml"):
            assert side.name.removesuffix(".source.yaml") in stems, side.name
