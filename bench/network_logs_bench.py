"""Network-log import at scale: a 1,000,000-line proxy log, streamed in bounded memory.

Generates a seeded proxy export (``date,cs-username,cs-host,sc-bytes,sc-filter-result``)
in a temporary file, imports it through the real connector code path
(:func:`read_network_log` + :func:`transform_network_logs`) and prints throughput and
peak memory. Each import runs in a fresh interpreter so its ``ru_maxrss`` (the process
high-water mark, interpreter and catalogue included) is the import's own; a quarter-size
log (already holding every sighting) is imported the same way, and equal peaks show that
memory does not grow with the number of lines. ``--trace`` adds the ``tracemalloc`` peak
(about ten times slower).
Run: ``.venv/bin/python -m bench.network_logs_bench`` (``--lines N`` for another size).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sprawl_audit.catalog import load_catalog
from sprawl_audit.connectors.network_logs.reader import read_network_log
from sprawl_audit.connectors.network_logs.transform import transform_network_logs

LINES = 1_000_000
USERS = 1_500
UNKNOWN_HOSTS = 4_000
CATALOGUED = (
    "web.whatsapp.com", "mail.google.com", "wetransfer.com", "teams.microsoft.com",
    "outlook.office365.com", "www.dropbox.com", "web.telegram.org", "zoom.us",
    "chatgpt.com", "login.yahoo.com",
)
COLUMNS = {"user": "cs-username", "host": "cs-host", "time": "date", "bytes": "sc-bytes",
           "action": "sc-filter-result"}


def generate(path: Path, lines: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    users = [f"user{i:04d}@example.org" for i in range(USERS)] + ["-"]
    unknown = [f"site{i}.example-{i % 97}.net" for i in range(UNKNOWN_HOSTS)]
    start = 1_792_000_000
    seen = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("date,cs-username,cs-host,sc-bytes,sc-filter-result\n")
        chunk: list[str] = []
        for i in range(lines):
            if i % 12 == 0:
                # every (user, product) pair within the first quarter of a million lines,
                # so a log of any size past that holds the same set of sightings
                user = users[seen % len(users)]
                host = CATALOGUED[(seen // len(users)) % len(CATALOGUED)]
                seen += 1
            else:
                user, host = rng.choice(users), rng.choice(unknown)
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i * 2))
            action = "DENIED" if rng.random() < 0.02 else "OBSERVED"
            chunk.append(f"{when},{user},{host},{rng.randrange(200, 90000)},"
                         f"{action}\n")
            if len(chunk) == 10_000:
                f.write("".join(chunk))
                chunk.clear()
        f.write("".join(chunk))


def run_once(path: Path) -> tuple[int, int, int]:
    catalog = load_catalog()
    summary = read_network_log(path, catalog, format="csv", columns=COLUMNS)
    out = transform_network_logs([summary])
    return summary.lines, len(summary.sightings), len(out.observations)


def _maxrss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def child(path: Path, trace: bool) -> None:
    """Import one file in this (fresh) process and print one JSON line of measurements."""
    load_catalog()
    baseline = _maxrss_mib()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    lines, pairs, observations = run_once(path)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    print(json.dumps({"lines": lines, "pairs": pairs, "observations": observations,
                      "seconds": elapsed, "maxrss_mib": _maxrss_mib(),
                      "baseline_mib": baseline, "traced_peak_mib": peak / (1024 * 1024)}))


def measure(path: Path, trace: bool = False) -> dict[str, float]:
    """Run :func:`child` in a fresh interpreter so its max RSS is the import's alone."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(path)]
    if trace:
        cmd.append("--trace")
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="network_logs_bench", description=__doc__)
    parser.add_argument("--lines", type=int, default=LINES)
    parser.add_argument("--trace", action="store_true",
                        help="also report the tracemalloc peak (slow: ~10x)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    if args.child:
        child(args.child, args.trace)
        return
    with tempfile.TemporaryDirectory(prefix="sprawl-bench-") as tmp:
        small = Path(tmp) / "proxy-small.csv"
        generate(small, max(args.lines // 4, 1))
        path = Path(tmp) / "proxy.csv"
        t0 = time.perf_counter()
        generate(path, args.lines)
        gen_s = time.perf_counter() - t0
        size_mib = os.path.getsize(path) / (1024 * 1024)
        quarter = measure(small, args.trace)
        full = measure(path, args.trace)
    rate = full["lines"] / full["seconds"]
    print(f"network_logs: {full['lines']:,.0f} lines ({size_mib:.0f} MiB, generated in "
          f"{gen_s:.1f}s) imported in {full['seconds']:.2f}s = {rate:,.0f} lines/s")
    print(f"network_logs: {full['pairs']:,.0f} (user, product) sightings -> "
          f"{full['observations']:,.0f} observations")
    print(f"network_logs: peak RSS {full['maxrss_mib']:.0f} MiB for {full['lines']:,.0f} lines "
          f"vs {quarter['maxrss_mib']:.0f} MiB for {quarter['lines']:,.0f} lines "
          f"(interpreter + catalogue before reading: {full['baseline_mib']:.0f} MiB)")
    if args.trace:
        print(f"network_logs: tracemalloc peak {full['traced_peak_mib']:.1f} MiB vs "
              f"{quarter['traced_peak_mib']:.1f} MiB")


if __name__ == "__main__":
    main()
