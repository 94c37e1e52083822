"""The m365 benchmark runs and prints its ratios (a tiny tenant; nothing is timed here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_bench_prints_its_ratios(capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))  # bench/ is not installed; it lives in the repo
    sys.modules.pop("bench", None)
    from bench import m365_bench

    scale = m365_bench.Scale(users=220, devices=60, service_principals=16, teams=8,
                             detected_apps=9, mailboxes=30)
    rc = m365_bench.run(scale, latency=0.0, rate=None, retry_after=1, concurrency=4,
                        plain=True, limit=120, separate_process=False)
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "requests issued" in out and "minimum" in out and "lower bound" in out
    assert "plain script / sprawl-audit: requests" in out
    assert "same inventory: yes" in out


def test_minimum_counts_pages_and_batches() -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from bench.m365_bench import lower_bound, minimum
    finally:
        sys.path.remove(str(ROOT))
    from fakes.graph import generate_tenant

    tenant = generate_tenant(users=2500, devices=10, service_principals=3, teams=2,
                             detected_apps=3)
    m = minimum(tenant, page=999, batch=20, concurrency=4, mailboxes=40)
    assert "users 3" in m.detail  # 2,500 users at 999 a page
    bound, which = lower_bound(m, latency=0.03, concurrency=4, rate=None, per_batch=20)
    assert bound > 0 and which
