"""Google Workspace collection at scale: a 20,000-user tenant on the fakes.

Runs the real connector (google-api-python-client, static discovery, batches, retries,
quota pacing) against tests/fakes/google.py on loopback, with per-request latency, an
HTTP-level rate limit and a per-API call quota that counts every batch part — as Google
does. Prints, per feed and in total, the HTTP requests issued against the minimum the
data needs (full pages, full batches, one token per scope and per mailbox), and the wall
time against a lower bound (the slowest of: each API's calls over its quota, the longest
chain of dependent requests times the latency, the token requests spread over the
connector's concurrency).

Two scenarios, then it stops:

* **paced** — the connector's ``requests_per_minute`` equals the service's quota;
* **squeezed** — the service's quota is 25% below the connector's pacing (someone else
  shares the project's quota) and a few requests of every feed fail once (429 without
  Retry-After, 503, a body cut short, a reset connection): retries, no page lost.

The quota is scaled up (2,000 calls/s per API instead of Google's default 2,400 calls a
*minute*) so a run takes seconds; at the real quota the same run is bound by
``calls / 40 per second`` (about 8 minutes for 20,000 users' token lists), which the
pacing respects by construction. The fake runs in a separate process, as Google's
servers do not share the audit machine's CPU.
Run: ``python -m bench google`` (``--quick``: 2,000 users) or
``python -m bench.google_bench --users N``.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
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
from sprawl_audit.connectors.google.settings import DEFAULT_LICENCE_PRODUCTS
from sprawl_audit.connectors.interface import ConnectorContext

DESCRIPTION = "Google Workspace: a 20,000-user tenant on the fake Google APIs"
USERS = 20_000
LATENCY = 0.020  # seconds per HTTP request, every request
QUOTA = 2_000.0  # calls per second per API, batch parts included
HTTP_RATE = 1_000.0  # HTTP requests per second the fake accepts before answering 429
CONCURRENCY = 8
GMAIL_USERS = 500
FEEDS = {  # feed -> (path pattern, method) as the fake saw it; batches counted apart
    "users.list": (r"/admin/directory/v1/users$", "GET"),
    "tokens.list (batches)": ("", "directory"),
    "mobiledevices.list": (r"/devices/mobile$", "GET"),
    "token audit log": (r"/applications/token$", "GET"),
    "mobile audit log": (r"/applications/mobile$", "GET"),
    "meet audit log": (r"/applications/meet$", "GET"),
    "usage report": (r"/usage/users/all/dates/", "GET"),
    "spaces.search": (r"spaces:search$", "GET"),
    "members.list": (r"/members$", "GET"),
    "gmail (batches)": ("", "gmail"),
    "licenseAssignments": (r"/apps/licensing/v1/product/[^/]+/users$", "GET"),
    "policies.list": (r"^/v1/policies$", "GET"),
    "token endpoint": (r"^/token$", "POST"),
}
FAULTED = (r"/admin/directory/v1/users$", r"/devices/mobile$", r"/applications/meet$",
           r"/usage/users/all/dates/", r"spaces:search$")


def _pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def _serve(conn: Any, users: int, now: datetime, key_path: str, quota: float,
           faults: bool) -> None:
    """The fake, in its own process."""
    from fakes.server import Fault

    tenant = generate_tenant(users, now=now)
    with FakeGoogle(tenant, latency=LATENCY, rate_per_second=HTTP_RATE,
                    quota_per_second=quota) as fake:
        if faults:
            for pattern in FAULTED:
                for fault in (Fault(status=429), Fault(status=503),
                              Fault(kind="truncate", keep=64), Fault(kind="reset")):
                    fake.add_fault(pattern, fault)
            fake.add_part_fault("/tokens$", Fault(status=503), times=20)
        fake.write_key(Path(key_path))
        conn.send(fake.url)
        conn.recv()  # the run is over
        calls: Counter[str] = Counter()
        for method, n in fake.calls.items():
            calls[method.split(".")[0]] += n
        issued = {}
        for name, (pattern, method) in FEEDS.items():
            if not pattern:
                issued[name] = fake.batch_by_api[method]
            else:
                issued[name] = sum(1 for r in fake.server.requests_to(pattern)
                                   if r.method == method)
        conn.send({"issued": issued, "http_total": fake.http_requests, "calls": dict(calls),
                   "throttled": fake.throttled_parts + fake.server.throttled})


def _filtered(events: list[dict], state: str) -> int:
    return sum(1 for a in events for e in a["events"] for p in e["parameters"]
               if p["name"] == "APPLICATION_STATE" and p.get("value") == state)


def _minimum(tenant: Any) -> dict[str, int]:
    active = [u for u in tenant.users if not u["suspended"]]
    ext_spaces = [s for s in tenant.spaces if s["externalUserAllowed"]]
    log = tenant.activities
    return {
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
        # one listForProduct read per default product, 1,000 assignments a page
        "licenseAssignments": sum(_pages(len(tenant.licences.get(p, ())), 1000)
                                  for p in DEFAULT_LICENCE_PRODUCTS),
        # the Admin console settings: one filtered read, 100 policies a page
        "policies.list": _pages(len(tenant.policies), 100),
        # one token per scope (9 for the admin's feeds), one per impersonated mailbox
        "token endpoint": 9 + min(GMAIL_USERS, len(active)),
    }


def _scenario(tenant: Any, users: int, quota: float, faults: bool) -> dict[str, Any]:
    ctx = multiprocessing.get_context()
    parent, child = ctx.Pipe()
    with tempfile.TemporaryDirectory(prefix="sprawl-bench-") as tmp:
        key = Path(tmp) / "sa.json"
        server = ctx.Process(target=_serve, daemon=True,
                             args=(child, users, tenant.now, str(key), quota, faults))
        server.start()
        try:
            url = parent.recv()
            settings = {"service_account_file": str(key), "admin_subject": tenant.admin,
                        "api_endpoint": url, "requests_per_minute": QUOTA * 60,
                        "concurrency": CONCURRENCY,
                        "gmail_forwarding": {"enabled": True, "max_users": GMAIL_USERS}}
            connector = GoogleConnector(Runtime())
            t0, c0 = time.perf_counter(), time.process_time()
            inventory = connector.run(settings, ConnectorContext(config_dir=tmp))
            wall = time.perf_counter() - t0
            cpu = time.process_time() - c0  # the connector's threads only: the fake is apart
            parent.send("report")
            seen: dict[str, Any] = parent.recv()
        finally:
            server.join(timeout=30)
            if server.is_alive():
                server.terminate()
    seen.update(wall=wall, cpu=cpu, inventory=inventory, stats=connector.last_stats,
                timings=connector.last_timings)
    return seen


def _bound(minimum: dict[str, int], calls: Counter[str], quota: float) -> tuple[str, float]:
    chain = {
        "users pages, then the last token batch": (minimum["users.list"] + 1) * LATENCY,
        "mobiledevices pages": minimum["mobiledevices.list"] * LATENCY,
        "usage pages": minimum["usage report"] * LATENCY,
        "token endpoint over the concurrency": math.ceil(minimum["token endpoint"]
                                                         / CONCURRENCY) * LATENCY,
    }
    quotas = {f"{api} quota: {n:,} calls / {quota:,.0f} per s": n / quota
              for api, n in calls.items()}
    return max([*chain.items(), *quotas.items()], key=lambda kv: kv[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="google_bench", description=DESCRIPTION)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--quick", action="store_true", help="2,000 users")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.quick:
        args.users = min(args.users, 2_000)

    t0 = time.perf_counter()
    tenant = generate_tenant(args.users, now=datetime.now(timezone.utc))
    gen_s = time.perf_counter() - t0
    minimum = _minimum(tenant)
    total_min = sum(minimum.values())
    log = tenant.activities
    print(f"google: tenant of {len(tenant.users):,} users, {len(tenant.devices):,} mobile "
          f"devices, {len(log['token']):,} token, {len(log['mobile']):,} mobile and "
          f"{len(log['meet']):,} Meet audit events, {len(tenant.spaces):,} Chat spaces "
          f"(generated in {gen_s:.1f}s)")
    print(f"google: fake Google in its own process: {LATENCY * 1000:.0f} ms per request, "
          f"{HTTP_RATE:,.0f} HTTP requests/s; connector concurrency {CONCURRENCY}, paced at "
          f"{QUOTA:,.0f} calls/s per API, Gmail forwarding for {GMAIL_USERS} mailboxes")
    rsa_keypair()  # warm (under fork the child inherits it)
    rows = []
    for name, quota, faults in (("paced", QUOTA, False), ("squeezed", QUOTA * 0.75, True)):
        r = _scenario(tenant, args.users, quota, faults)
        issued = r["issued"]
        if name == "paced":
            print(f"google: {'feed':<24} {'issued':>7} {'minimum':>8}")
            for feed in minimum:
                print(f"google: {feed:<24} {issued[feed]:>7,} {minimum[feed]:>8,}")
            print("google: feeds (start-end s): " + ", ".join(
                f"{k} {a:.1f}-{b:.1f}" for k, (a, b) in sorted(r["timings"].items(),
                                                               key=lambda kv: kv[1])))
        bound_name, bound = _bound(minimum, Counter(r["calls"]), quota)
        inv = r["inventory"]
        statuses = Counter(c.status for c in inv.coverage)
        rows.append((name, quota, sum(issued.values()), r["throttled"], r["stats"].retries,
                     r["wall"], r["cpu"], bound, bound_name, len(inv.people), len(inv.devices),
                     dict(statuses)))
    print(f"google: {'scenario':<9} {'quota/s':>8} {'requests':>9} {'minimum':>8} "
          f"{'429s':>5} {'retries':>8} {'wall':>7} {'cpu':>7} {'bound':>7}  bound by")
    for (name, quota, requests, throttled, retries, wall, cpu, bound, bound_name,
         *_rest) in rows:
        print(f"google: {name:<9} {quota:>8,.0f} {requests:>9,} {total_min:>8,} "
              f"{throttled:>5,} {retries:>8,} {wall:>6.2f}s {cpu:>6.2f}s {bound:>6.2f}s  "
              f"{bound_name}")
    for (name, *_r, people, devices, statuses) in rows:
        print(f"google: {name}: {people:,} people, {devices:,} devices; coverage {statuses}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"google: peak memory of the connector's process (the tenant's generation "
          f"included; the fake runs apart): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
