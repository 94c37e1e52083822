"""The synthetic tenants, the whole-analysis benchmark and start-up (issue #8).

The real run (1,000 / 10,000 / 100,000 people) is ``make bench``; here the same code runs
at a few hundred people, and what must hold at any size is checked: a tenant is
deterministic, grows with its size, audits through the CLI, and reads the same by the
fast streaming reader and by the careful located one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a folder of the repository, not of the package;
    sys.path.append(str(ROOT))  # last, so the installed sprawl_audit still wins

from bench import analysis_bench, tenant  # noqa: E402

SPRAWL_AUDIT = Path(sys.executable).with_name("sprawl-audit")


@pytest.fixture(scope="module")
def small_tenant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tenant") / "tenant-300.json"
    tenant.write(300, path)
    return path


def test_a_tenant_is_the_same_for_the_same_size_and_seed(small_tenant: Path,
                                                           tmp_path: Path) -> None:
    again = tmp_path / "again.json"
    tenant.write(300, again)
    assert again.read_bytes() == small_tenant.read_bytes()
    other = tmp_path / "other-seed.json"
    tenant.write(300, other, seed=tenant.SEED + 1)
    assert other.read_bytes() != small_tenant.read_bytes()


def test_a_tenant_grows_with_its_size() -> None:
    small, large = tenant.generate(200), tenant.generate(2_000)
    staff = [p for p in large.people if p.sources[0].topic == "directory.users"
             and p.sources[0].connector == "m365"]
    assert len(staff) == 2_000
    assert 9 <= len(large.people) / len(small.people) <= 11
    assert 9 <= len(large.devices) / len(small.devices) <= 11
    assert 9 <= len(large.usages) / len(small.usages) <= 11
    departments = {p.department for p in staff}
    assert len(departments) > len({p.department for p in small.people if not p.guest})
    # every kind of record the issue names is there
    assert large.integrations and large.phone_numbers and large.external_links
    assert {o.source.connector for o in large.observations} >= {"manual", "network_logs"}
    assert {p.sources[0].connector for p in large.people} >= {"m365", "google", "slack"}
    assert sum(len(d.apps) for d in large.devices) > len(large.devices)


def test_a_tenant_audits_from_the_command_line(small_tenant: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    done = subprocess.run([str(SPRAWL_AUDIT), "audit", "--from", str(small_tenant), "-q",
                           "-f", "json", "-o", str(out), "--no-history"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text("utf-8"))
    assert result["summary"]["people"] >= 300
    assert result["summary"]["platforms"] >= 10
    assert result["findings"]


def test_the_fast_reader_equals_the_careful_one(small_tenant: Path) -> None:
    from sprawl_audit.inventory.snapshot import _located_inventory, read_snapshot
    from sprawl_audit.inventory.snapshot_stream import stream_inventory

    text = small_tenant.read_text("utf-8")
    careful = _located_inventory(json.loads(text), str(small_tenant))
    assert stream_inventory(text, 1) == careful
    assert read_snapshot(small_tenant) == careful


def test_the_benchmark_prints_every_size_phase_and_start_up(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bench.analysis_bench", "--sizes",
                           "150,300", "--keep", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "parse" in out and "÷parse" in out and "peak" in out
    assert "150 → 300 people (×2)" in out
    assert "start-up (median of 7): python -c pass" in out
    assert "--version imports: no connector SDK, no networkx" in out
    assert "--help imports: no connector SDK, no networkx" in out
    assert sorted(p.name for p in tmp_path.glob("tenant-*.json")) == [
        "tenant-150-seed8.json", "tenant-300-seed8.json"]


def _row(people: int, parse: float, analysis: float, peak: float) -> dict[str, Any]:
    measured = {"parse": parse, "analysis": analysis, "peak_mib": peak,
                "cpu": {"parse": parse, "analysis": analysis}}
    return {"people": people, "measured": measured}


def test_the_verdict_holds_the_issue_targets() -> None:
    ok, lines = analysis_bench.verdict([_row(10_000, 1.0, 2.0, 200),
                                        _row(100_000, 10.0, 20.0, 1_200)])
    assert ok and "met" in lines[0] and "(met)" in lines[1]
    ok, lines = analysis_bench.verdict([_row(10_000, 1.0, 2.0, 200),
                                        _row(100_000, 10.0, 31.0, 1_200)])
    assert not ok and "MISSED" in lines[0]  # 3.1× parse
    ok, lines = analysis_bench.verdict([_row(10_000, 1.0, 2.0, 200),
                                        _row(100_000, 10.0, 20.0, 1_600)])
    assert not ok and "MISSED" in lines[0]  # over 1.5 GB
    ok, lines = analysis_bench.verdict([_row(10_000, 1.0, 1.0, 200),
                                        _row(100_000, 10.0, 12.0, 1_200)])
    assert not ok and "worse than linear" in lines[1]
    slow_plan = _row(100_000, 10.0, 20.0, 1_200)
    slow_plan["measured"]["plan"] = slow_plan["measured"]["cpu"]["plan"] = 41.0
    ok, lines = analysis_bench.verdict([_row(10_000, 1.0, 2.0, 200), slow_plan])
    assert not ok and "plan 41.00 s = 2.05× the analysis" in lines[2] and "MISSED" in lines[2]
