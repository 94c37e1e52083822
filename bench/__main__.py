"""``python -m bench [--quick] [NAME ...]``: run every benchmark, or the named ones.

A benchmark is a module ``bench/<name>_bench.py`` with a ``main`` function (and,
optionally, a one-line ``DESCRIPTION``); it is found by its file name, so adding one
needs no change here. ``main`` may take an argument list (``--quick`` is passed through
for a small, fast run) or read ``sys.argv`` itself; it may return an exit status or
call ``sys.exit``. Each benchmark runs even if an earlier one failed.
Exit status: 0 when every benchmark succeeded, else 1.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"


def discover() -> list[str]:
    """Benchmark names, sorted: ``m365`` for ``bench/m365_bench.py``."""
    return sorted(p.name[: -len("_bench.py")] for p in HERE.glob("*_bench.py"))


def _description(module: Any) -> str:
    text = getattr(module, "DESCRIPTION", "") or (module.__doc__ or "").strip()
    return text.splitlines()[0] if text else ""


def run_one(name: str, argv: list[str]) -> int:
    """Import ``bench/<name>_bench.py`` and run its ``main``; returns an exit status."""
    module = importlib.import_module(f"bench.{name}_bench")
    main = module.main
    saved = sys.argv
    try:
        if inspect.signature(main).parameters:
            result = main(argv)
        else:  # a main() that parses sys.argv itself
            sys.argv = [str(HERE / f"{name}_bench.py"), *argv]
            result = main()
    except SystemExit as exc:
        result = exc.code
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        sys.argv = saved
    if result is None:
        return 0
    return result if isinstance(result, int) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="ask each benchmark for a small, fast run (if it supports it)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args, extra = parser.parse_known_args(argv)
    if extra and len(args.names) != 1:
        parser.error(f"options {' '.join(extra)} need exactly one benchmark named")
    if str(TESTS) not in sys.path:  # the benches reuse the fakes under tests/fakes
        sys.path.insert(0, str(TESTS))
    known = discover()
    if args.list:
        for name in known:
            print(f"{name:<14} {_description(importlib.import_module(f'bench.{name}_bench'))}")
        return 0
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(known)}")
    status = 0
    for name in args.names or known:
        started = time.monotonic()
        print(f"== bench {name}", flush=True)
        rc = run_one(name, (["--quick"] if args.quick else []) + extra)
        print(f"== bench {name}: exit {rc} after {time.monotonic() - started:.1f} s", flush=True)
        status = status or (1 if rc else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
