"""The shared token bucket (connectors/common/pacing.py) on a fake clock: rate held, decrease
on 429, slow recovery, one bucket shared by many threads."""

from __future__ import annotations

import itertools
import threading

import pytest

from sprawl_audit.connectors.common.pacing import TokenBucket, bucket_or_none


class ManualClock:
    """Virtual time: sleep advances it at once (thread-safe)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.now += seconds
                self.slept += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def test_rate_is_held_after_the_burst() -> None:
    clock = ManualClock()
    bucket = TokenBucket(100, burst=10, clock=clock)
    start = clock.now
    for _ in range(1010):
        bucket.acquire(1)
    # 1,010 units at 100/s with a burst of 10: 10 s, not less
    assert clock.now - start == pytest.approx(10.0 - 0.01, abs=0.02)
    assert bucket.stats.units == 1010


def test_a_batch_counts_each_part() -> None:
    clock = ManualClock()
    bucket = TokenBucket(200, burst=20, clock=clock)
    start = clock.now
    for _ in range(100):  # 100 $batch POSTs of 20 parts = 2,000 units
        bucket.acquire(20)
    assert clock.now - start == pytest.approx(2000 / 200 - 0.1 - 0.1, abs=0.02)


def test_a_quiet_spell_gives_only_the_burst() -> None:
    clock = ManualClock()
    bucket = TokenBucket(10, burst=5, clock=clock)
    bucket.acquire(1)
    clock.advance(60)  # a minute of silence saves up no more than the burst
    waits = [bucket.acquire(1) for _ in range(8)]
    assert waits[:6] == [0.0] * 6
    assert waits[6] > 0 and waits[7] == pytest.approx(0.1)


def test_429_lowers_the_rate_once_per_cooldown() -> None:
    clock = ManualClock()
    bucket = TokenBucket(200, clock=clock, decrease=0.8, cooldown=1.0)
    assert bucket.throttled() is True
    assert bucket.rate == pytest.approx(160)
    # the other 19 parts of the same batch, and other workers' answers: one signal
    for _ in range(19):
        assert bucket.throttled() is False
    assert bucket.rate == pytest.approx(160)
    assert bucket.stats.decreases == 1 and bucket.stats.signals == 20
    clock.advance(1.0)
    assert bucket.throttled() is True
    assert bucket.rate < 160 * 0.8 + 200 * 0.03 * 1.0 + 1e-9


def test_recovery_is_slow_and_stops_at_the_configured_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(100, clock=clock, decrease=0.5, recovery=0.02)
    bucket.throttled()
    assert bucket.rate == pytest.approx(50)
    clock.advance(5)  # 2 % of the ceiling a second
    assert bucket.rate == pytest.approx(60)
    clock.advance(100)
    assert bucket.rate == pytest.approx(100)


def test_the_lowered_rate_paces_and_the_floor_holds() -> None:
    clock = ManualClock()
    bucket = TokenBucket(100, burst=1, clock=clock, decrease=0.5, recovery=0.0,
                         cooldown=0.0, floor=0.1)
    for _ in range(10):
        bucket.throttled()
    assert bucket.rate == pytest.approx(10)  # never below floor x rate
    start = clock.now
    for _ in range(11):
        bucket.acquire(1)
    assert clock.now - start == pytest.approx(1.0, abs=0.15)


def test_hold_keeps_everyone_back() -> None:
    clock = ManualClock()
    bucket = TokenBucket(1000, burst=10, clock=clock, cooldown=0.0)
    bucket.throttled(hold=30)
    assert bucket.acquire(1) == pytest.approx(30, abs=0.05)


def test_shared_across_threads() -> None:
    """Eight threads reserve from one bucket at the same (frozen) instant: their slots
    interleave one budget — 1/rate apart — rather than each spending the rate."""
    clock = ManualClock()
    clock.sleep = lambda seconds: None  # type: ignore[method-assign]  # time stands still
    bucket = TokenBucket(50, burst=5, clock=clock)
    grants: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(100):
            wait = bucket.acquire(1)
            with lock:
                grants.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bucket.stats.units == 800
    grants.sort()
    assert grants[:6] == [0.0] * 6
    gaps = [b - a for a, b in itertools.pairwise(grants[6:])]
    assert min(gaps) == pytest.approx(1 / 50) and max(gaps) == pytest.approx(1 / 50)
    assert grants[-1] == pytest.approx((800 - 1 - 5) / 50)


def test_settings_values() -> None:
    assert bucket_or_none(0) is None and bucket_or_none(None) is None
    bucket = bucket_or_none(12.5)
    assert bucket is not None and bucket.ceiling == 12.5
    with pytest.raises(ValueError):
        TokenBucket(0)
