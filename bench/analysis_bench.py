"""Whole analysis at 1,000 / 10,000 / 100,000 people, against the time to parse.

For each size a synthetic tenant (``bench/tenant.py``) is written as a snapshot, then a
fresh Python process — so each size's peak memory is its own — does what ``sprawl-audit
audit --from`` does, timing each phase:

* **parse**: read the snapshot into an Inventory — the floor, since nothing can be
  judged before it is read;
* **graph**: resolve products and people against the catalogue and build the graph;
* **analyses**: overlap, departments, devices, integrations, external reach...;
* **rules**: load and evaluate every shipped rule of every pack;
* **result**: assemble the Result document and write it as JSON;
* **plan**: the consolidation plan (``sprawl-audit plan``) built from that Result — not
  part of *analysis*; its target (issue #18) is at most 2× the analysis it builds on.

*analysis* is graph + analyses + rules + result, and the ratio printed is analysis ÷
parse. The targets (issue #8): at 100,000 people analysis within 3× parse and peak
memory (the process's peak resident set) under 1.5 GB; growth from 10,000 to 100,000 no
worse than linear (≤ 10× for 10× the people). The start-up time of ``sprawl-audit
--version`` and ``--help`` is printed against a bare ``python -c pass``, with the
connector SDKs each imports (it should be none).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DESCRIPTION = "whole analysis at 1k/10k/100k people vs parse time; start-up time"
TARGET_RATIO = 3.0
TARGET_PEAK_MIB = 1536
#: ``plan`` at most this many times the analysis it builds on (issue #18).
TARGET_PLAN_RATIO = 2.0
#: Top-level modules of the connector SDKs (and the HTTP stacks under them).
SDK_MODULES: tuple[str, ...] = (
    "msal", "googleapiclient", "google", "httplib2", "slack_sdk", "dns", "requests",
    "urllib3", "openpyxl", "networkx",
)
PHASES: tuple[str, ...] = ("graph", "analyses", "rules", "result")


def _peak_mib() -> float:
    """Peak resident set of this process (VmHWM), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(snapshot: Path, out_dir: Path) -> dict[str, Any]:
    """Run the audit's phases on ``snapshot`` in this process; seconds per phase."""
    from sprawl_audit.config import Config
    from sprawl_audit.core.gcpause import gc_paused
    from sprawl_audit.engine import shipped_packs
    from sprawl_audit.graph.analyses import run_analyses
    from sprawl_audit.graph.build import build_graph
    from sprawl_audit.inventory.resolve import resolve
    from sprawl_audit.inventory.snapshot import read_snapshot
    from sprawl_audit.pipeline import RuleSelection, catalog_for, judge_full
    from sprawl_audit.plan.build import build_plan
    from sprawl_audit.plan.settings import PlanSettings
    from sprawl_audit.report.formats.json_format import pieces
    from sprawl_audit.report.result import build_result

    times: dict[str, float] = {}
    cpu: dict[str, float] = {}
    clock: list[float] = []

    def lap(phase: str | None = None) -> None:
        now = (time.perf_counter(), time.process_time())
        if phase is not None:
            times[phase], cpu[phase] = now[0] - clock[0], now[1] - clock[1]
        clock[:] = now

    config = Config()
    with gc_paused():  # as the CLI runs an audit
        lap()
        inventory = read_snapshot(snapshot)
        lap("parse")
        resolution = resolve(inventory, catalog_for(config), config.sanctioned)
        ag = build_graph(inventory, resolution, activity_days=config.activity_days,
                         sanctioned=config.sanctioned)
        lap("graph")
        run_analyses(ag)
        lap("analyses")
        judged = judge_full(ag, RuleSelection(packs=tuple(shipped_packs()),
                                              packs_explicit=True))
        lap("rules")
        result = build_result(ag, judged.rules, judged.findings, mode="snapshot",
                              started_at="2026-11-01T09:00:00Z", connectors=[],
                              rule_packs=list(judged.packs), fail_on=None,
                              frameworks=judged.frameworks)
        with (out_dir / "result.json").open("w", encoding="utf-8") as out:
            out.writelines(pieces(result))
        lap("result")
        build_plan(result, PlanSettings(targets={}), catalog_for(config))
        lap("plan")
    return {
        **times,
        "cpu": {**cpu, "analysis": sum(cpu[p] for p in PHASES)},
        "analysis": sum(times[p] for p in PHASES),
        "peak_mib": _peak_mib(),
        "nodes": ag.graph.number_of_nodes(),
        "edges": ag.graph.number_of_edges(),
        "findings": len(result["findings"]),
        "rules_judged": len(judged.rules),
    }


def _measure_in_child(snapshot: Path, out_dir: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.analysis_bench", "--measure", str(snapshot),
         "--out", str(out_dir)],
        capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {snapshot.name} failed:\n{proc.stderr}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def startup() -> dict[str, Any]:
    """Median wall time of ``--version``, ``--help`` and ``python -c pass`` (7 runs each),
    and the SDK modules ``--version``/``--help`` leave imported."""
    script = Path(sys.executable).with_name("sprawl-audit")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "sprawl_audit"]

    def median(argv: list[str]) -> float:
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=False)
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)

    probe = ("import sys\nfrom sprawl_audit.cli.main import main\n"
             "try:\n    main([sys.argv[1]])\nexcept SystemExit:\n    pass\n"
             f"sdks = {SDK_MODULES!r}\n"
             "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & set(sdks))),"
             " file=sys.stderr)")
    imported = {}
    for flag in ("--version", "--help"):
        proc = subprocess.run([sys.executable, "-c", probe, flag], capture_output=True,
                              text=True, check=False)
        imported[flag] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    return {
        "python": median([sys.executable, "-c", "pass"]),
        "--version": median([*command, "--version"]),
        "--help": median([*command, "--help"]),
        "imported": imported,
    }


def _fmt_size(n: int) -> str:
    return f"{n:,}"


def report(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"{'people':>8} {'snapshot':>9} {'parse':>7} {'graph':>7} {'analyses':>8} "
        f"{'rules':>7} {'result':>7} {'analysis':>8} {'÷parse':>7} {'cpu ÷':>6} {'peak':>9} "
        f"{'plan':>7}",
    ]
    for r in rows:
        m = r["measured"]
        lines.append(
            f"{_fmt_size(r['people']):>8} {r['snapshot_mib']:>7.1f}MB {m['parse']:>6.2f}s "
            f"{m['graph']:>6.2f}s {m['analyses']:>7.2f}s {m['rules']:>6.2f}s "
            f"{m['result']:>6.2f}s {m['analysis']:>7.2f}s {m['analysis'] / m['parse']:>6.2f}× "
            f"{_cpu_ratio(m):>5.2f}× {m['peak_mib']:>6.0f}MiB {m['plan']:>6.2f}s"
        )
    for a, b in itertools.pairwise(rows):
        scale = b["people"] / a["people"]
        grow_a = b["measured"]["analysis"] / a["measured"]["analysis"]
        grow_c = b["measured"]["cpu"]["analysis"] / a["measured"]["cpu"]["analysis"]
        grow_p = b["measured"]["parse"] / a["measured"]["parse"]
        grow_m = b["measured"]["peak_mib"] / a["measured"]["peak_mib"]
        lines.append(
            f"{_fmt_size(a['people'])} → {_fmt_size(b['people'])} people (×{scale:.0f}): "
            f"analysis ×{grow_a:.1f} (CPU ×{grow_c:.1f}), parse ×{grow_p:.1f}, "
            f"peak memory ×{grow_m:.1f}"
            + ("  (no worse than linear)" if min(grow_a, grow_c) <= scale * 1.05 else
               "  (WORSE THAN LINEAR)")
        )
    return lines


def _cpu_ratio(m: dict[str, Any]) -> float:
    """Analysis ÷ parse in CPU time: the same ratio, unmoved by other jobs on the machine."""
    return float(m["cpu"]["analysis"] / m["cpu"]["parse"])


def verdict(rows: list[dict[str, Any]]) -> tuple[bool, list[str]]:
    """Whether the 100,000-person tenant meets the issue's targets, in words (for other
    sizes the same figures are printed, and the verdict is left to the real run)."""
    big = max(rows, key=lambda r: r["people"])
    m = big["measured"]
    ratio = m["analysis"] / m["parse"]
    ok_ratio = ratio <= TARGET_RATIO or _cpu_ratio(m) <= TARGET_RATIO
    ok_peak = m["peak_mib"] < TARGET_PEAK_MIB
    lines = [
        f"{_fmt_size(big['people'])} people: analysis {ratio:.2f}× parse in wall time, "
        f"{_cpu_ratio(m):.2f}× in CPU time "
        f"(target ≤ {TARGET_RATIO:g}×) {'met' if ok_ratio else 'MISSED'}; peak "
        f"{m['peak_mib']:.0f} MiB (target < {TARGET_PEAK_MIB} MiB) "
        f"{'met' if ok_peak else 'MISSED'}",
    ]
    plan_ratio = min(m["plan"] / m["analysis"], m["cpu"]["plan"] / m["cpu"]["analysis"])
    ok_plan = plan_ratio <= TARGET_PLAN_RATIO
    lines.append(f"plan {m['plan']:.2f} s = {plan_ratio:.2f}× the analysis it builds on "
                 f"(target ≤ {TARGET_PLAN_RATIO:g}×) {'met' if ok_plan else 'MISSED'}")
    ok = ok_ratio and ok_peak and ok_plan
    by_size = {r["people"]: r for r in rows}
    if 100_000 not in by_size:
        lines[0] += " (the targets are for 100,000 people)"
        ok = True
    if 10_000 in by_size and 100_000 in by_size:
        at_10k, at_100k = by_size[10_000]["measured"], by_size[100_000]["measured"]
        growth = min(at_100k["analysis"] / at_10k["analysis"],
                     at_100k["cpu"]["analysis"] / at_10k["cpu"]["analysis"])
        linear = growth <= 10 * 1.05
        lines.append(f"10,000 → 100,000: analysis grew ×{growth:.1f} for ×10 the people "
                     f"{'(met)' if linear else '(MISSED: worse than linear)'}")
        ok = ok and linear
    return ok, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench analysis", description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 people only")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        help="comma-separated numbers of people (default 1000,10000,100000)")
    parser.add_argument("--keep", type=Path,
                        help="keep the generated snapshots in this folder and reuse them")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:  # the child process: one size
        print(json.dumps(measure(args.measure, args.out or Path(tempfile.gettempdir()))))
        return 0

    from bench.tenant import SEED, summary, write

    sizes = args.sizes or ([1_000, 10_000] if args.quick else [1_000, 10_000, 100_000])
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sprawl-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for people in sizes:
            path = folder / f"tenant-{people}-seed{SEED}.json"
            if not path.exists():
                start = time.perf_counter()
                inventory = write(people, path)
                print(f"generated {path.name} in {time.perf_counter() - start:.1f} s: "
                      f"{summary(inventory)}", flush=True)
                del inventory
            measured = _measure_in_child(path, Path(tmp))
            rows.append({"people": people, "snapshot_mib": path.stat().st_size / 2**20,
                         "measured": measured})
            print(f"measured {people:,} people: {measured['nodes']:,} nodes, "
                  f"{measured['edges']:,} edges, {measured['rules_judged']} rules, "
                  f"{measured['findings']:,} findings", flush=True)
    print()
    for line in report(rows):
        print(line)
    ok, lines = verdict(rows)
    for line in lines:
        print(line)
    boot = startup()
    print()
    print(f"start-up (median of 7): python -c pass {boot['python'] * 1000:.0f} ms; "
          f"sprawl-audit --version {boot['--version'] * 1000:.0f} ms "
          f"(+{(boot['--version'] - boot['python']) * 1000:.0f} ms); "
          f"--help {boot['--help'] * 1000:.0f} ms "
          f"(+{(boot['--help'] - boot['python']) * 1000:.0f} ms)")
    for flag, mods in boot["imported"].items():
        print(f"  {flag} imports: {mods or 'no connector SDK, no networkx'}")
    if os.environ.get("SPRAWL_BENCH_JSON"):
        Path(os.environ["SPRAWL_BENCH_JSON"]).write_text(
            json.dumps({"sizes": rows, "startup": boot}, indent=2), encoding="utf-8")
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
