"""Counting and bounding the cases the property-based (hypothesis) suites run.

Issue #8 asks the suites to run at least :data:`MINIMUM_CASES` generated cases in all and
to report the number; a case must also end — a parser that loops forever on some input is
a failure, not a slow test. The conftest wraps every ``@given`` test's inner function
(hypothesis documents ``test.hypothesis.inner_test`` as replaceable) with :func:`counted`,
which counts each call and arms a per-case alarm of :data:`CASE_SECONDS`.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable
from typing import Any

#: The whole suite must run at least this many generated cases (checked by the conftest
#: when the suite runs in full, as ``make test`` does).
MINIMUM_CASES = 10_000
#: A single generated case taking longer than this is reported as a hang.
CASE_SECONDS = 20.0

COUNT = [0]


class CaseHung(AssertionError):
    """A generated case ran past :data:`CASE_SECONDS`: an input made the code hang."""


def _alarm(signum: int, frame: Any) -> None:
    raise CaseHung(f"a generated case ran for more than {CASE_SECONDS:.0f} s")


def counted(inner: Callable[..., Any]) -> Callable[..., Any]:
    """``inner`` counting its calls and bounded in time (on the main thread, where
    SIGALRM can be delivered; elsewhere only counted)."""
    if getattr(inner, "_sprawl_counted", False):
        return inner

    @functools.wraps(inner)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        COUNT[0] += 1
        if threading.current_thread() is not threading.main_thread():
            return inner(*args, **kwargs)
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
        try:
            return inner(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    wrapper._sprawl_counted = True  # type: ignore[attr-defined]
    return wrapper
