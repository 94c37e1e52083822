"""Google Workspace collection at scale: a 20,000-user tenant on the fakes.

Runs the real connector (google-api-python-client, static discovery, batches, retries,
quota pacing) against tests/fakes/google.py on loopback, with per-request latency, an
HTTP-level rate limit and a per-API call quota that counts every batch part — as Google
does. Prints, per feed and in total, the HTTP requests issued against the minimum the
data needs (full pages, full batches, one token per scope and per mailbox), and the wall
time against a lower bound (the slowest of: each API's calls over its quota, the longest
chain of dependent requests times the latency, the token requests spread over the
connector's concurrency).

The quota is scaled up (2,000 calls/s per API instead of Google's default 2,400 calls a
*minute*) so the run takes seconds; at the real quota the same run is bound by
``calls / 40 per second`` (about 9 minutes for 20,000 users' token lists), which the
pacing respects by construction. One run, then it stops.
Run: ``.venv/bin/python -m bench.google_bench`` (``--users N`` for another size).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.google import FakeGoogle, generate_tenant, rsa_keypair

from sprawl_audit.connectors.google.connector import GoogleConnector, Runtime
from sprawl_audit.connectors.interface import ConnectorContext

USERS = 20_000
LATENCY = 0.020  # seconds per HTTP request, every request
QUOTA = 2_000.0  # calls per second per API, batch parts included
HTTP_RATE = 1_000.0  # HTTP requests per second the fake accepts before answering 429
CONCURRENCY = 8
GMAIL_USERS = 500


def _pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def _count(fake: FakeGoogle, pattern: str, method: str = "GET") -> int:
    return sum(1 for r in fake.server.requests_to(pattern) if r.method == method)


def _serve(conn: Any, users: int, now: datetime, key_path: str) -> None:
    """The fake, in its own process: Google's servers do not share our CPU (or GIL)."""
    tenant = generate_tenant(users, now=now)
    with FakeGoogle(tenant, latency=LATENCY, rate_per_second=HTTP_RATE,
                    quota_per_second=QUOTA) as fake:
        fake.write_key(Path(key_path))
        conn.send(fake.url)
        conn.recv()  # the run is over
        calls: Counter[str] = Counter()
        for method, n in fake.calls.items():
            calls[method.split(".")[0]] += n
        conn.send({
            "issued": {
                "users.list": _count(fake, r"/admin/directory/v1/users$"),
                "tokens.list (batches)": fake.batch_by_api["directory"],
                "mobiledevices.list": _count(fake, r"/devices/mobile$"),
                "token audit log": _count(fake, r"/applications/token$"),
                "mobile audit log": _count(fake, r"/applications/mobile$"),
                "meet audit log": _count(fake, r"/applications/meet$"),
                "usage report": _count(fake, r"/usage/users/all/dates/"),
                "spaces.search": _count(fake, r"spaces:search$"),
                "members.list": _count(fake, r"/members$"),
                "gmail (batches)": fake.batch_by_api["gmail"],
                "token endpoint": _count(fake, r"^/token$", "POST"),
            },
            "http_total": fake.http_requests,
            "calls": dict(calls),
            "throttled": fake.throttled_parts + fake.server.throttled,
        })


def _filtered(events: list[dict], state: str) -> int:
    return sum(1 for a in events for e in a["events"] for p in e["parameters"]
               if p["name"] == "APPLICATION_STATE" and p.get("value") == state)


def main() -> None:
    parser = argparse.ArgumentParser(prog="google_bench", description=__doc__)
    parser.add_argument("--users", type=int, default=USERS)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])

    t0 = time.perf_counter()
    tenant = generate_tenant(args.users, now=datetime.now(timezone.utc))
    gen_s = time.perf_counter() - t0
    active = [u for u in tenant.users if not u["suspended"]]
    ext_spaces = [s for s in tenant.spaces if s["externalUserAllowed"]]
    log = tenant.activities
    minimum = {
        "users.list": _pages(len(tenant.users), 500),
        "tokens.list (batches)": _pages(len(active), 1000),
        "mobiledevices.list": _pages(len(tenant.devices), 100),
        "token audit log": _pages(len(log["token"]), 1000),
        "mobile audit log": _pages(_filtered(log["mobile"], "INSTALLED"), 1000)
        + _pages(_filtered(log["mobile"], "UNINSTALLED"), 1000),
        "meet audit log": _pages(len(log["meet"]), 1000),
        "usage report": _pages(len(tenant.usage), 1000),
        "spaces.search": _pages(len(ext_spaces), 1000),
        "members.list": len(ext_spaces),
        "gmail (batches)": _pages(2 * min(GMAIL_USERS, len(active)), 100),
        "token endpoint": 7 + min(GMAIL_USERS, len(active)),
    }
    rsa_keypair()  # made once, before the fork, so both processes share the key
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    with tempfile.TemporaryDirectory(prefix="sprawl-bench-") as tmp:
        key = Path(tmp) / "sa.json"
        server = ctx.Process(target=_serve, args=(child, args.users, tenant.now, str(key)),
                             daemon=True)
        server.start()
        try:
            url = parent.recv()
            settings = {"service_account_file": str(key), "admin_subject": tenant.admin,
                        "api_endpoint": url, "requests_per_minute": QUOTA * 60,
                        "concurrency": CONCURRENCY,
                        "gmail_forwarding": {"enabled": True, "max_users": GMAIL_USERS}}
            connector = GoogleConnector(Runtime())
            t0 = time.perf_counter()
            inventory = connector.collect(settings, ConnectorContext(config_dir=tmp))
            wall = time.perf_counter() - t0
            parent.send("report")
            seen = parent.recv()
        finally:
            server.join(timeout=30)
            if server.is_alive():
                server.terminate()
    issued: dict[str, int] = seen["issued"]
    http_total: int = seen["http_total"]
    calls = Counter(seen["calls"])
    throttled: int = seen["throttled"]
    stats = connector.last_stats

    chain = {
        "users pages then the last token batch": (minimum["users.list"] + 1) * LATENCY,
        "mobiledevices pages": minimum["mobiledevices.list"] * LATENCY,
        "usage pages (+1 for the too-recent date)": (minimum["usage report"] + 1) * LATENCY,
        "token endpoint over the concurrency": math.ceil(minimum["token endpoint"]
                                                         / CONCURRENCY) * LATENCY,
    }
    quota = {api: n / QUOTA for api, n in calls.items()}
    bound_name, bound = max([*chain.items(), *((f"{a} quota ({calls[a]:,} calls)", s)
                                               for a, s in quota.items())],
                            key=lambda kv: kv[1])
    total_min = sum(minimum.values())
    total_issued = sum(issued.values())

    print(f"google: tenant of {len(tenant.users):,} users ({len(active):,} active), "
          f"{len(tenant.devices):,} mobile devices, {len(log['token']):,} token, "
          f"{len(log['mobile']):,} mobile and {len(log['meet']):,} Meet audit events, "
          f"{len(tenant.spaces):,} Chat spaces (generated in {gen_s:.1f}s)")
    print(f"google: fake Google: {LATENCY * 1000:.0f} ms per request, quota {QUOTA:,.0f} "
          f"calls/s per API (batch parts count), {HTTP_RATE:,.0f} HTTP requests/s; "
          f"connector concurrency {CONCURRENCY}, Gmail forwarding for {GMAIL_USERS} mailboxes")
    print(f"google: {'feed':<24} {'issued':>7} {'minimum':>8}")
    for name in minimum:
        print(f"google: {name:<24} {issued[name]:>7,} {minimum[name]:>8,}")
    print(f"google: HTTP requests issued {total_issued:,} vs minimum {total_min:,} "
          f"({(total_issued / total_min - 1) * 100:+.1f}%); the fake saw {http_total:,} "
          f"(retries {stats.retries:,}, 429 answers {throttled:,})")
    print("google: API calls (batch parts included): "
          + ", ".join(f"{a} {n:,}" for a, n in sorted(calls.items())))
    print(f"google: wall time {wall:.2f}s vs lower bound {bound:.2f}s ({bound_name}) = "
          f"{wall / bound:.2f}x; client pacing waited {stats.paced:.1f}s in all threads")
    print("google: feeds (start-end s): " + ", ".join(
        f"{k} {a:.1f}-{b:.1f}" for k, (a, b) in sorted(connector.last_timings.items(),
                                                       key=lambda kv: kv[1])))
    statuses = Counter(c.status for c in inventory.coverage)
    print(f"google: records: {len(inventory.people):,} people, "
          f"{len(inventory.integrations):,} integrations, {len(inventory.devices):,} devices, "
          f"{len(inventory.usages):,} usages, {len(inventory.external_links):,} external "
          f"links; coverage {dict(statuses)}")


if __name__ == "__main__":
    main()
