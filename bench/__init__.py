"""Benchmarks: generated tenants on the fake servers of ``tests/fakes``, with latency and
throttling. Run them all with ``make bench`` (``python -m bench``); see bench/README.md."""
