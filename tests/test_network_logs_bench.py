"""The network-log benchmark runs end to end (tiny size; the real run is bench/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "network_logs_bench.py"


def test_bench_reports_rate_and_peak_memory() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--lines", "4000"], check=True,
                          capture_output=True, text=True, timeout=120)
    out = done.stdout
    assert "4,001 lines" in out and "lines/s" in out
    assert "peak RSS" in out and "MiB" in out
