"""Benchmark the Slack connector against the fake Slack Web API (loopback, no Slack).

A 5,000-member org with 3,000 channels, three ways: one Business+ workspace; an
Enterprise Grid org of four workspaces read with an org-level token; and the workspace
again with one request in twelve failing (503, truncated JSON, reset) to price the
retries. Every request pays ``LATENCY`` seconds; every method has Slack's tier rate limit
(token bucket per method per workspace, burst = one minute's allowance) with a Slack
minute compressed to ``60 / TIME_SCALE`` seconds, so throttling (HTTP 429 +
Retry-After) really happens.

Reported per scenario:

* **requests** issued (every HTTP request the fake saw, retries and throttled ones
  included) against the **minimum**: the fewest calls that read the org whole with the
  connector's page sizes (:func:`fakes.slack.minimum_requests`);
* **wall** time against a **lower bound** for a client with one request in flight:
  ``max(minimum × latency, max over rate-limit buckets of (requests − burst) / rate)``.

Each run is checked: the people, Slack Connect partners and apps collected must equal
the generated org's, or the bench fails. Run: ``python -m bench slack`` (``--quick``: a
fifth of the org) or ``python bench/slack_bench.py``.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.server import Fault
from fakes.slack import (
    ADMIN_SCOPES,
    ALL_SCOPES,
    FakeSlack,
    SlackOrg,
    Token,
    generate_org,
    minimum_requests,
)

from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.slack.connector import SlackConnector

DESCRIPTION = "Slack connector: 5,000 members, 3,000 channels on the fake Slack Web API"
MEMBERS = 5000
CHANNELS = 3000
PARTNERS = 20
APPS = 30
LATENCY = 0.02  # seconds per request
TIME_SCALE = 10.0  # a Slack minute lasts 60 / TIME_SCALE seconds
FAULT_EVERY = 12
TOKEN_ENV = "SPRAWL_BENCH_SLACK_TOKEN"
TOKEN = "xoxp-bench-0000-0000"


@dataclass
class Row:
    name: str
    people: int
    channels: int
    requests: int
    minimum: int
    throttled: int
    retries: int
    wall: float
    bound: float


def _scenario(name: str, org: SlackOrg, token: Token, *, faults: bool = False) -> Row:
    fake = FakeSlack(org, [token], latency=LATENCY, time_scale=TIME_SCALE)
    if faults:
        kinds = [Fault(status=503), Fault(kind="truncate", keep=30), Fault(kind="reset")]
        count = [0]

        def on_call(_method: str, _args: dict[str, str]) -> None:
            count[0] += 1
            if count[0] % FAULT_EVERY == 0:  # the next request to any method fails once
                fake.server.add_fault(r"/api/", kinds[(count[0] // FAULT_EVERY) % 3])

        fake.on_call = on_call
    os.environ[TOKEN_ENV] = token.value
    try:
        with fake:
            start = time.perf_counter()
            out = SlackConnector().run(
                {"token_env": TOKEN_ENV, "base_url": fake.base_url}, ConnectorContext())
            wall = time.perf_counter() - start
            requests = fake.requests()
            throttled = fake.throttled
            served = dict(fake.served)
            limits = {key: fake.bucket_limits(key.split("/")[0]) for key in served}
    finally:
        os.environ.pop(TOKEN_ENV, None)
    _verify(name, org, out)
    minimum = minimum_requests(org, org_token=token.kind == "org")
    bucket_bound = max((max(0.0, (n - limits[k][0]) / limits[k][1]) for k, n in served.items()),
                       default=0.0)
    people = sum(1 for ws in org.workspaces.values() for m in ws.members
                 if str(m["id"]).startswith("U0"))
    channels = sum(len(ws.channels) for ws in org.workspaces.values())
    retries = requests - minimum - throttled
    return Row(name, people, channels, requests, minimum, throttled, max(0, retries), wall,
               max(minimum * LATENCY, bucket_bound))


def _verify(name: str, org: SlackOrg, out: Any) -> None:
    expected_people = {str(m["profile"]["email"]).lower() for ws in org.workspaces.values()
                       for m in ws.members if str(m["id"]).startswith("U0")}
    got_people = {p.id for p in out.people}
    partners = {t.lower() for t in org.partners()}
    got_partners = {link.target.lower() for link in out.external_links}
    apps = {(f"slack:{t}", a) for t in org.workspaces for a in org.installed_apps(t)}
    got_apps = {(i.host.value, i.name) for i in out.integrations}
    bad = [c for c in out.coverage if c.status != "collected"]
    problems = []
    if got_people != expected_people:
        problems.append(f"people {len(got_people)} != {len(expected_people)}")
    if got_partners != partners:
        problems.append(f"partners {sorted(got_partners)} != {sorted(partners)}")
    if not apps <= got_apps:
        problems.append(f"apps missing: {sorted(apps - got_apps)[:5]}")
    if bad:
        problems.append("coverage not collected: " + ", ".join(f"{c.topic}={c.status}"
                                                              for c in bad))
    if problems:
        raise SystemExit(f"slack bench [{name}]: wrong result: " + "; ".join(problems))


def run(*, quick: bool = False) -> list[Row]:
    """The three scenarios; ``quick`` (``--quick``) reads a fifth of the org."""
    members, channels = (MEMBERS // 5, CHANNELS // 5) if quick else (MEMBERS, CHANNELS)
    workspace = generate_org(members=members, channels=channels, partners=PARTNERS, apps=APPS,
                             plan="business+", seed=11)
    grid = generate_org(members=members, channels=channels, partners=PARTNERS, apps=APPS,
                        plan="enterprise", workspaces=4, seed=11)
    user = Token(TOKEN, team_id=workspace.first.id, scopes=ALL_SCOPES)
    org = Token(TOKEN, kind="org", scopes=ALL_SCOPES | ADMIN_SCOPES)
    return [
        _scenario("Business+ workspace", workspace, user),
        _scenario("Enterprise Grid, 4 workspaces", grid, org),
        _scenario(f"workspace, 1 in {FAULT_EVERY} requests faulted", workspace, user,
                  faults=True),
    ]


def main() -> None:
    rows = run(quick="--quick" in sys.argv[1:])
    print(f"Slack connector: fake Slack Web API on loopback, {LATENCY * 1000:.0f} ms a "
          f"request, tier rate limits with a Slack minute of {60 / TIME_SCALE:.0f} s")
    header = (f"{'scenario':<38} {'people':>6} {'channels':>8} {'requests':>8} "
              f"{'minimum':>7} {'429s':>4} {'retries':>7} {'wall s':>6} {'bound s':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.name:<38} {r.people:>6} {r.channels:>8} {r.requests:>8} {r.minimum:>7} "
              f"{r.throttled:>4} {r.retries:>7} {r.wall:>6.2f} {r.bound:>7.2f}")


if __name__ == "__main__":
    main()
