"""Property-based tests: suppression files are read, or refused with one line naming the
file and line — and applying what was accepted never fails."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from property_strategies import (
    LIGHT_MUTATIONS,
    YAML_HAZARDS,
    check_cli_outcome,
    check_one_line_error,
    dump_yaml,
    mutate,
    mutate_bytes,
    run_cli,
    tiny_snapshot,
    write_case,
)

from sprawl_audit.core.errors import UserError
from sprawl_audit.store.suppress import SuppressionSet, apply_to_result, load_suppressions

ROOT = Path(__file__).resolve().parent
_TMP = Path(tempfile.mkdtemp(prefix="prop-suppress-"))

BASE: dict[str, Any] = {"suppressions": [
    {"fingerprint": "60790c3d1cfaefe9", "rationale": "Being replaced by Teams (CHG-2291)",
     "expires": "2027-03-31", "owner": "it-security@example.org"},
    {"rule": "SA-OVERLAP-*", "rationale": "Overlap is reported to the board separately"},
    {"rule": "SA-PHONE-002", "subject": "phone:+44113496*",
     "rationale": "Numbers are held for the porting project", "expires": "2020-01-01"},
]}


@cache
def sample_result() -> dict[str, Any]:
    return json.loads((ROOT / "data" / "result_sample.json").read_text(encoding="utf-8"))


def _load(raw: bytes) -> SuppressionSet | None:
    path = write_case(_TMP, "accepted.yaml", raw)
    try:
        loaded = load_suppressions(path)
    except UserError as exc:
        check_one_line_error(str(exc), str(path))
        return None
    # what was accepted applies cleanly and keeps the summary consistent
    out = apply_to_result(sample_result(), loaded, date(2026, 11, 1))
    assert len(out["findings"]) == len(sample_result()["findings"])
    assert out["suppressions"]["suppressed"] == sum(1 for f in out["findings"]
                                                     if f.get("suppressed"))
    return loaded


@settings(max_examples=250)
@given(st.one_of(mutate(BASE, mutations=LIGHT_MUTATIONS),
                 mutate(BASE["suppressions"], mutations=LIGHT_MUTATIONS)))
def test_a_mutated_suppressions_file_is_read_or_refused_with_file_and_line(doc: Any) -> None:
    _load(dump_yaml(doc).encode("utf-8"))


@settings(max_examples=300)
@given(st.data())
def test_suppressions_bytes_are_read_or_refused(data: st.DataObject) -> None:
    _load(data.draw(mutate_bytes(dump_yaml(BASE))))


@settings(max_examples=60)
@given(st.sampled_from(YAML_HAZARDS))
def test_yaml_hazards_as_a_suppressions_file(text: str) -> None:
    _load(text.encode("utf-8"))


@settings(max_examples=300)
@given(st.sampled_from(("fingerprint", "rule", "subject", "expires", "owner", "rationale")),
       st.one_of(st.sampled_from(("[", "[!]", "[a-", "**", "*?*", "2027-02-30", "2027-2-3",
                                  "27-01-01", "0000-01-01", "9999-12-31", "\\", "[]]", "a\x00b",
                                  "\x1b[2J", "\u202e", "FFFFFFFFFFFFFFFF", " 60790c3d1cfaefe9 ")),
                 st.text(max_size=20)))
def test_odd_pattern_and_date_values(key: str, value: str) -> None:
    entry = {"rule": "SA-X-1", "rationale": "why", key: value}
    _load(dump_yaml([entry]).encode("utf-8"))


@settings(max_examples=20)
@given(mutate(BASE, max_mutations=2, mutations=LIGHT_MUTATIONS))
def test_cli_audit_with_a_mutated_suppressions_file(doc: Any) -> None:
    supp = write_case(_TMP, "accepted.yaml", dump_yaml(doc))
    res = run_cli(["audit", "--from", str(tiny_snapshot(_TMP)), "--suppressions", str(supp),
                   "-q", "--no-history", "-f", "json", "-o", str(supp.parent / "r.json")])
    check_cli_outcome(res, {0, 2}, "accepted.yaml")

