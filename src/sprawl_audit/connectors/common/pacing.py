"""Client-side pacing: a token bucket shared by a connector's workers, adapted by AIMD.

Why: a service that rate-limits (Graph, Google's per-API quotas) answers 429 once its
own bucket is empty. Bouncing off that limit is expensive — every refused request is
sent again, and while a ``Retry-After`` runs the workers wait instead of working. Sending
just under the limit in the first place costs nothing.

How:

* **Token bucket** (GCRA form: one "theoretical arrival time" instead of a token count,
  so a reservation is O(1) and fair across threads). ``acquire(n)`` takes ``n`` units —
  a JSON ``$batch`` of 20 parts is 20 units, because Graph and Google count the parts —
  and sleeps until they are due. Up to ``burst`` units may go at once after a quiet
  spell. The sleep happens outside the lock, so one thread waiting never blocks another
  from reserving the slot after it.
* **AIMD**: ``throttled()`` (the service answered 429 anyway: the configured rate is
  above the real one, or someone else spends the same quota) multiplies the rate by
  ``decrease`` — at most once per ``cooldown`` seconds, since one burst of 429s is one
  signal, not twenty — and forgets any burst credit. Every second without a 429 then
  gives back ``recovery`` × the configured rate, up to that rate: slowly, so the rate
  settles just under the service's limit instead of oscillating around it.
* ``throttled(hold=s)`` also keeps every caller back for ``s`` seconds (Google's
  per-minute quotas want that); Graph's throttled parts wait their own ``Retry-After``
  and the others carry on at the lowered rate.

Time goes through an injectable clock (``monotonic``/``sleep``), so tests run on a fake
one. The module is deliberately small and free of HTTP: the transports call it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


class PacingClock(Protocol):
    """What the bucket needs of a clock (``sprawl_audit.connectors.common.retry.Clock`` fits)."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class _SystemClock:
    def monotonic(self) -> float:
        import time

        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        import time

        if seconds > 0:
            time.sleep(seconds)


@dataclass
class PacingStats:
    """Counters for logs, tests and the benchmarks."""

    units: int = 0  # units acquired (requests, $batch parts)
    waited: float = 0.0  # seconds callers slept for their slot
    decreases: int = 0  # times the rate was lowered after a 429
    signals: int = 0  # 429 signals received (including those inside a cooldown)


class TokenBucket:
    """Pace callers to ``rate`` units a second, lower it on 429, raise it back slowly.

    ``rate`` is the ceiling (the configured limit); the current rate never exceeds it
    and never falls below ``floor`` × ``rate``. ``burst`` defaults to a tenth of a
    second's units (at least one).
    """

    def __init__(self, rate: float, *, burst: float | None = None,
                 clock: PacingClock | None = None, decrease: float = 0.8,
                 recovery: float = 0.03, cooldown: float = 1.0, floor: float = 0.05) -> None:
        if not rate > 0:
            raise ValueError("rate must be more than 0")
        if not 0 < decrease < 1:
            raise ValueError("decrease must be between 0 and 1")
        self.ceiling = float(rate)
        self.burst = max(1.0, float(burst if burst is not None else rate / 10))
        self.clock: PacingClock = clock or _SystemClock()
        self.decrease = decrease
        self.recovery = max(0.0, recovery)
        self.cooldown = max(0.0, cooldown)
        self.minimum = max(1e-6, floor * self.ceiling)
        self.stats = PacingStats()
        self._rate = self.ceiling
        self._tat: float | None = None  # when the next unit is due (None: never used)
        self._updated: float | None = None  # when the rate last recovered
        self._calm_until = float("-inf")
        self._lock = threading.Lock()

    # -- state -----------------------------------------------------------------------
    @property
    def rate(self) -> float:
        """The current rate (units a second), recovery up to now included."""
        with self._lock:
            self._recover(self.clock.monotonic())
            return self._rate

    def _recover(self, now: float) -> None:
        if self._updated is not None and now > self._updated and self._rate < self.ceiling:
            self._rate = min(self.ceiling, self._rate
                             + self.ceiling * self.recovery * (now - self._updated))
        self._updated = now if self._updated is None else max(self._updated, now)

    # -- use -------------------------------------------------------------------------
    def acquire(self, units: int = 1) -> float:
        """Reserve ``units`` and sleep until they are due; returns the seconds slept."""
        units = max(0, int(units))
        with self._lock:
            now = self.clock.monotonic()
            self._recover(now)
            tat = now if self._tat is None else max(self._tat, now)
            wait = tat - now - self.burst / self._rate
            self._tat = tat + units / self._rate
            self.stats.units += units
            if wait > 0:
                self.stats.waited += wait
        if wait > 0:
            self.clock.sleep(wait)
            return wait
        return 0.0

    def throttled(self, hold: float = 0.0) -> bool:
        """The service refused (429): lower the rate (once per cooldown), drop the burst
        credit, and with ``hold`` keep every caller back that many seconds. Returns
        whether the rate was lowered."""
        with self._lock:
            now = self.clock.monotonic()
            self._recover(now)
            self.stats.signals += 1
            lowered = now >= self._calm_until
            if lowered:
                self._rate = max(self.minimum, self._rate * self.decrease)
                self._calm_until = now + self.cooldown
                self.stats.decreases += 1
            # the service's bucket is empty: no burst on top of it, and the hold if asked
            due = now + self.burst / self._rate + max(0.0, hold)
            self._tat = due if self._tat is None else max(self._tat, due)
            return lowered


def bucket_or_none(rate: float | None, clock: PacingClock | None = None) -> TokenBucket | None:
    """A bucket for a configured rate, or None when pacing is off (``0`` or None)."""
    if not rate:
        return None
    return TokenBucket(float(rate), clock=clock)
