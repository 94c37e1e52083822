"""The m365 connector against a large generated tenant on the fake Graph.

A tenant of 50,000 users, 30,000 Intune devices and 400 service principals (plus teams,
detected apps, Teams Phone numbers and 500 mailboxes' inbox rules) is served over TLS on
loopback with a fixed latency per request and a token-bucket rate limit that answers
429 + ``Retry-After`` above it; ``$batch`` sub-requests count against the same bucket,
as they do in Graph. The connector collects it twice:

* as shipped: ``$top=999``, ``$batch`` of 20, 4 requests in flight, paced by the
  shared token bucket at ``max_requests_per_second`` (``--pace``; default the
  connector's 200);
* the way a plain script would: ``$top=100``, one request at a time, no ``$batch``.

``--scenario mailbox-rules`` reads every mailbox's inbox rules instead of 500 (47,518
sub-requests on the 50,000-user tenant), so the run is bound by the rate limit: it shows
how close the pacing gets to the limit and what share of parts the service refuses.

Printed: requests issued against the minimum implied by page sizes and batching; wall
time against the lower bound implied by latency, concurrency and the rate limit; and the
plain script's requests and wall time as ratios. Both runs must produce the same
inventory. Nothing is asserted; the numbers go in the README.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DESCRIPTION = "Microsoft 365 connector: 50k users / 30k devices / 400 apps on a throttled fake"

TESTS = Path(__file__).resolve().parents[1] / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

SECRET_ENV = "SPRAWL_BENCH_M365_SECRET"


@dataclass(frozen=True)
class Scale:
    users: int = 50_000
    devices: int = 30_000
    service_principals: int = 400
    teams: int = 500
    detected_apps: int = 300
    mailboxes: int = 500


QUICK = Scale(users=3_000, devices=1_500, service_principals=60, teams=40, detected_apps=30,
              mailboxes=100)
#: ``--scenario mailbox-rules``: every mailbox's inbox rules (one sub-request each), so
#: the run is bound by the rate limit and shows how close the pacing gets to it.
EVERY_MAILBOX = 1_000_000


def mailbox_count(tenant: Any, cap: int) -> int:
    """How many mailboxes the connector reads: enabled members with mail, up to ``cap``."""
    n = sum(1 for u in tenant.users if u.get("accountEnabled") is not False
            and u.get("mail") and str(u.get("userType") or "").lower() != "guest")
    return min(n, cap)


@dataclass
class Minimum:
    requests: int  # HTTP requests at the least, given page sizes and 20 per $batch
    sub_requests: int
    chain: int  # the longest chain of requests that must follow one another
    detail: str


def _pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def minimum(tenant: Any, *, page: int, batch: int, concurrency: int, mailboxes: int,
            delta: bool = True, default_page: int = 100) -> Minimum:
    """Requests implied by the tenant's size, Graph's page sizes and $batch's 20."""
    from sprawl_audit.connectors.m365.transform.apps import is_third_party

    lists = {
        "users": _pages(len(tenant.users), page),
        "servicePrincipals": _pages(len(tenant.service_principals), page),
        "oauth2PermissionGrants": _pages(len(tenant.grants), page),
        "managedDevices": _pages(len(tenant.managed_devices), page),
        "detectedApps": _pages(len(tenant.detected_apps), page),
        "teams": _pages(len(tenant.teams), page),
        "numberAssignments": _pages(len(tenant.number_assignments), 1000),
        "userRegistrationDetails": _pages(len(tenant.registration_details), page),
        "conditionalAccessPolicies": _pages(len(tenant.ca_policies), default_page),
    }
    # skus, domains, authorisation policy, cross-tenant default + partners, 2 reports and
    # their 2 downloads, security defaults, and (for the next run's delta) 3 x
    # $deltatoken=latest
    singles = 1 + 1 + 1 + 2 + 4 + 1 + (3 if delta else 0)
    third = [sp for sp in tenant.service_principals if is_third_party(sp)]
    sp_subs = sum(_pages(len(tenant.assigned_to.get(sp["id"], [])), page)
                  + _pages(len(tenant.assignments.get(sp["id"], [])), page) for sp in third)
    app_pages = [_pages(len(tenant.app_devices[a["id"]]), page) for a in tenant.detected_apps]
    team_subs = sum(_pages(len(tenant.team_guests.get(t["id"], [])), page)
                    for t in tenant.teams)
    subs = sp_subs + sum(app_pages) + team_subs + mailboxes
    per = max(1, batch)

    def rounds(n: int) -> int:
        return math.ceil(math.ceil(n / per) / concurrency)

    chain = max(
        lists["users"] + rounds(mailboxes),
        lists["servicePrincipals"] + rounds(sp_subs),
        lists["detectedApps"] + rounds(sum(app_pages)) + max(app_pages, default=1) - 1,
        lists["teams"] + rounds(team_subs),
        lists["managedDevices"], lists["oauth2PermissionGrants"],
    )
    total = sum(lists.values()) + singles + math.ceil(subs / per)
    detail = ", ".join(f"{k} {v}" for k, v in lists.items())
    return Minimum(total, subs, chain, detail)


def lower_bound(m: Minimum, *, latency: float, concurrency: int, rate: float | None,
                per_batch: int) -> tuple[float, str]:
    """Seconds no client can beat: critical path, throughput, and the rate limit."""
    chain = m.chain * latency
    throughput = m.requests * latency / concurrency
    ops = m.requests + (m.sub_requests if per_batch > 1 else 0)
    limited = max(0.0, (ops - rate) / rate) if rate else 0.0
    best = max(chain, throughput, limited)
    which = {chain: "critical path", throughput: "latency x requests / concurrency",
             limited: "rate limit"}[best]
    return best, which


class _Fakes:
    """One fake Graph at a time over one tenant: ``start`` → settings, ``stats`` stops it."""

    def __init__(self, tenant: Any) -> None:
        from fakes.server import tls_pair

        self.tenant = tenant
        _ca, self.cert, self.ca_path = tls_pair()
        self.fake: Any = None

    def handle(self, cmd: str, arg: Any) -> Any:
        from fakes.graph import FakeGraph

        if cmd == "start":
            self.fake = FakeGraph(self.tenant, tls=(self.cert, self.ca_path),
                                  client_secret=arg["secret"], latency=arg["latency"],
                                  rate_per_second=arg["rate"],
                                  retry_after=arg["retry_after"]).start()
            return {"settings": self.fake.settings(secret_env=SECRET_ENV)}
        fake, self.fake = self.fake, None
        stats = {"issued": len(fake.graph_log()), "subs": len(fake.sub_log),
                 "batches": fake.batches, "throttled": fake.server.throttled}
        fake.stop(wait=True)
        return stats


def _serve(conn: Any, scale: Scale, seed: int) -> None:
    """Child process: the fakes, so that their JSON encoding and TLS do not compete with
    the connector for the parent's GIL (as a remote service would not)."""
    from fakes.graph import generate_tenant

    fakes = _Fakes(generate_tenant(users=scale.users, devices=scale.devices,
                                   service_principals=scale.service_principals,
                                   teams=scale.teams, detected_apps=scale.detected_apps,
                                   seed=seed))
    while True:
        cmd, arg = conn.recv()
        if cmd == "quit":
            conn.send("bye")
            return
        conn.send(fakes.handle(cmd, arg))


class _Remote:
    """The fakes in a child process, driven over a pipe."""

    def __init__(self, scale: Scale, seed: int) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, scale, seed), daemon=True)
        self.process.start()

    def handle(self, cmd: str, arg: Any) -> Any:
        self.conn.send((cmd, arg))
        return self.conn.recv()

    def close(self) -> None:
        self.handle("quit", None)
        self.process.join(10)


def _collect(settings: Mapping[str, Any], limit: float) -> tuple[Any, Any, float]:
    from sprawl_audit.connectors.interface import ConnectorContext
    from sprawl_audit.connectors.m365.connector import M365Connector

    connector = M365Connector()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["out"] = connector.run(settings, ConnectorContext())
        except BaseException as exc:  # reported below
            box["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(limit)
    elapsed = time.monotonic() - started
    if thread.is_alive():
        raise TimeoutError(f"collection still running after {limit:.0f} s; giving up")
    if "error" in box:
        raise box["error"]
    return connector, box["out"], elapsed


def _same(a: Any, b: Any) -> bool:
    return all(getattr(a, n) == getattr(b, n) for n in
               ("people", "usages", "devices", "integrations", "phone_numbers")) and \
        sorted(map(repr, a.external_links)) == sorted(map(repr, b.external_links))


def run(scale: Scale, *, latency: float, rate: float | None, retry_after: int,
        concurrency: int, plain: bool, limit: float, seed: int = 2026,
        separate_process: bool = True, pace: float | None = None) -> int:
    import os

    from fakes.graph import generate_tenant

    mailboxes = ("every mailbox's" if scale.mailboxes >= EVERY_MAILBOX
                 else f"{scale.mailboxes:,} mailboxes'")
    print(f"tenant: {scale.users:,} users, {scale.devices:,} devices, "
          f"{scale.service_principals:,} service principals, {scale.teams:,} teams, "
          f"{scale.detected_apps:,} detected apps, {mailboxes} inbox rules")
    where = "own process" if separate_process else "in process"
    print(f"fake Graph ({where}): TLS on loopback, {latency * 1000:.0f} ms per request, "
          + (f"429 + Retry-After: {retry_after} above {rate:.0f} requests/s "
             "(sub-requests count)" if rate else "no rate limit"))
    t0 = time.monotonic()
    tenant = generate_tenant(users=scale.users, devices=scale.devices,
                             service_principals=scale.service_principals, teams=scale.teams,
                             detected_apps=scale.detected_apps, seed=seed)
    print(f"generated in {time.monotonic() - t0:.1f} s", flush=True)
    server: Any = _Remote(scale, seed) if separate_process else _Fakes(tenant)
    os.environ[SECRET_ENV] = "bench-secret"
    results: dict[str, Any] = {}
    ours: dict[str, Any] = {"concurrency": concurrency}
    if pace is not None:
        ours["max_requests_per_second"] = pace
    runs: list[tuple[str, dict[str, Any], int, int, int]] = [
        ("sprawl-audit", ours, 999, concurrency, 20)]
    if plain:
        runs.append(("plain script", {"page_size": 100, "concurrency": 1, "batch": False,
                                      "delta": False}, 100, 1, 1))
    try:
        for label, extra, page, conc, per_batch in runs:
            info = server.handle("start", {"secret": "bench-secret", "latency": latency,
                                           "rate": rate, "retry_after": retry_after})
            settings = dict(info["settings"], mailbox_rules={
                "enabled": True, "max_mailboxes": scale.mailboxes}, **extra)
            try:
                _connector, out, wall = _collect(settings, limit)
            except TimeoutError as exc:
                print(f"{label}: {exc}")
                return 1
            stats = server.handle("stats", None)
            issued, subs, throttled = stats["issued"], stats["subs"], stats["throttled"]
            m = minimum(tenant, page=page, batch=per_batch, concurrency=conc,
                        mailboxes=mailbox_count(tenant, scale.mailboxes),
                        delta=extra.get("delta", True))
            bound, which = lower_bound(m, latency=latency, concurrency=conc, rate=rate,
                                       per_batch=per_batch)
            results[label] = (out, issued, wall)
            # devices.apps is always partial (the BYOD blind spot); mailboxes are capped
            bad = [c for c in out.coverage if c.status in ("error", "forbidden", "unavailable")
                   or (c.status == "partial" and c.topic != "devices.apps"
                       and "capped at max_mailboxes" not in c.detail)]
            print(f"{label} (page {page}, " + (f"$batch {per_batch}, " if per_batch > 1 else
                                               "no $batch, ")
                  + f"{conc} in flight):")
            print(f"  requests issued   {issued:>8,}   minimum {m.requests:,} "
                  f"({m.detail}; +{m.sub_requests:,} per-item reads"
                  + (f" in batches of {per_batch}" if per_batch > 1 else "") + ")"
                  f"   ratio {issued / m.requests:.2f}")
            if per_batch > 1:
                print(f"  sub-requests      {subs:>8,}   in {stats['batches']:,} batches; "
                      f"{throttled:,} answers were 429 ({throttled / max(1, subs):.1%} of "
                      "sub-requests; throttled sub-requests retried alone)")
            ratio = f"   ratio {wall / bound:.2f}" if bound else ""
            print(f"  wall time         {wall:>8.1f} s lower bound {bound:.1f} s ({which})"
                  + ratio)
            print(f"  inventory         {len(out.people):,} people, {len(out.devices):,} "
                  f"devices, {len(out.integrations):,} integrations, {len(out.usages):,} "
                  f"usages, {len(out.phone_numbers):,} numbers; coverage problems: "
                  f"{', '.join(f'{c.topic} {c.status}' for c in bad) or 'none'}", flush=True)
    finally:
        if separate_process:
            server.close()
    if plain:
        ours, plain_run = results["sprawl-audit"], results["plain script"]
        print(f"plain script / sprawl-audit: requests {plain_run[1] / ours[1]:.1f}x, "
              f"wall time {plain_run[2] / ours[2]:.1f}x; same inventory: "
              f"{'yes' if _same(ours[0], plain_run[0]) else 'NO'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench m365", description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true", help="a small tenant (smoke run)")
    parser.add_argument("--latency", type=float, default=0.030, help="seconds per request")
    parser.add_argument("--rate", type=float, default=200.0,
                        help="requests/s above which the fake answers 429 (0: none)")
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-plain", action="store_true", help="skip the plain-script run")
    parser.add_argument("--time-limit", type=float, default=900.0,
                        help="give up on a run after this many seconds")
    parser.add_argument("--scenario", choices=("collection", "mailbox-rules"),
                        default="collection",
                        help="mailbox-rules: read every mailbox's inbox rules (implies "
                             "--no-plain)")
    parser.add_argument("--pace", type=float, default=None,
                        help="the connector's max_requests_per_second (0: no pacing; "
                             "default: the connector's default)")
    args = parser.parse_args(argv or [])
    scale = QUICK if args.quick else Scale()
    if args.scenario == "mailbox-rules":
        scale = replace(scale, mailboxes=EVERY_MAILBOX)
        args.no_plain = True
    return run(scale, latency=args.latency, rate=args.rate or None,
               retry_after=args.retry_after, concurrency=args.concurrency,
               plain=not args.no_plain, limit=args.time_limit, pace=args.pace)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
