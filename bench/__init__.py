"""Benchmarks: generated tenants on the fake servers of ``tests/fakes``, with latency and
throttling. Run them all with ``make bench`` (``python -m bench``); see bench/README.md."""

import sys
from pathlib import Path as _Path

_ROOT = _Path(__file__).resolve().parent.parent
# `python -m bench` from the checkout puts the checkout first on sys.path, and its
# `sprawl_audit` folder lacks the connectors (installed from connectors/ as
# sprawl_audit.connectors). Move the checkout to the end so the installed package wins;
# `bench` itself is already imported, and its modules are found through its own path.
if "sprawl_audit" not in sys.modules:
    sys.path[:] = [p for p in sys.path if _Path(p or ".").resolve() != _ROOT] + [str(_ROOT)]

