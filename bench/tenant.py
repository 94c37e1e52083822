"""Synthetic tenants of any size, shaped like the demo tenant, written as snapshots.

``python -m bench.tenant --people 100000 -o tenant.json`` writes an Inventory snapshot
that ``sprawl-audit audit --from tenant.json`` reads. The whole-analysis benchmark
(``bench/analysis_bench.py``) uses it at 1,000, 10,000 and 100,000 people.

Why scale the demo rather than invent: the demo (Riverside Homes Group, ~800 people) is a
tenant every rule pack was written against, with the raw shapes the connectors really
emit. The generator draws from it — department mix, job titles, licence bundles, whole
device app sets (so apps co-occur as on real phones, unrecognised ones included), OAuth
scope sets, phone systems, interview notes — and grows each collection the way it grows
in a real organisation:

* people grow linearly and are spread over regional copies of the demo's departments
  (``Repairs — Area 7``), about √(n/100) areas, so a 100,000-person tenant has ~280
  departments rather than 9 enormous ones;
* per-person records (usages, devices and their apps, phone numbers, Slack and Google
  accounts, network-log sightings) grow linearly;
* third-party apps, partner organisations and interview notes grow more slowly, and the
  number of people per grant follows a heavy tail (a few apps everyone uses, many used by
  a handful), as grants do;
* network-log sightings come from generated proxy-log *lines* read by the real
  ``network_logs`` reader, so the snapshot holds what that connector would produce.

Everything is drawn from one seeded ``random.Random``, so a size and seed always give the
same snapshot (byte for byte).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sprawl_audit.core.model import (
    Account,
    AppRef,
    Coverage,
    Device,
    ExternalLink,
    Integration,
    Inventory,
    Observation,
    Person,
    PhoneNumber,
    Platform,
    SourceRef,
    Usage,
)

SEED = 8
SIZES: tuple[int, ...] = (1_000, 10_000, 100_000)

# Consumer and shadow products seen in web-proxy logs: (host, share of people who use it).
WEB_PRODUCTS: tuple[tuple[str, float], ...] = (
    ("web.whatsapp.com", 0.12), ("mail.google.com", 0.06), ("outlook.live.com", 0.03),
    ("wetransfer.com", 0.05), ("www.dropbox.com", 0.04), ("zoom.us", 0.08),
    ("chatgpt.com", 0.10), ("web.telegram.org", 0.01), ("discord.com", 0.01),
    ("otter.ai", 0.01), ("www.messenger.com", 0.02), ("app.slack.com", 0.03),
)
#: Ordinary web sites: a proxy log is mostly these, and the reader must skip them cheaply.
OTHER_HOSTS: tuple[str, ...] = (
    "www.gov.uk", "www.bbc.co.uk", "www.nhs.uk", "login.microsoftonline.com",
    "www.google.com", "www.legislation.gov.uk", "weather.metoffice.gov.uk",
)
GOOGLE_SHARE = 0.15  # people also in Google Workspace (the schools/education arm)
SLACK_SHARE = 0.08  # people in the IT/digital Slack workspace
PHONE_SHARE = 0.25  # people with a direct-dial number
GUEST_SHARE = 0.013


class _Template:
    """What the generator draws from: distributions taken from the demo inventory."""

    def __init__(self) -> None:
        from sprawl_audit.connectors.demo import load_demo_inventory

        demo = load_demo_inventory()
        self.demo = demo
        staff = [p for p in demo.people if not p.guest and p.sources[0].connector == "m365"]
        self.staff = len(staff)
        self.first = sorted({p.display_name.split()[0] for p in staff})
        self.last = sorted({p.display_name.split()[-1] for p in staff})
        departments = Counter(p.department for p in staff)
        self.departments = sorted(departments)
        self.department_weights = [departments[d] for d in self.departments]
        titles: dict[str, list[str]] = {}
        for p in staff:
            titles.setdefault(p.department, []).append(p.job_title)
        self.titles = {d: sorted(t) for d, t in titles.items()}
        self.licences = [p.licences for p in staff]
        self.devices = [d for d in demo.devices]
        self.slack_platform = next(p for p in demo.platforms if p.id.startswith("slack:"))
        self.slack_person = next(p for p in demo.people if p.sources[0].connector == "slack")
        self.usage_activity = {u.platform.value: u.activity for u in demo.usages}
        self.guest_domains = sorted({p.email.rsplit("@", 1)[-1] for p in demo.people
                                     if p.guest})


def _date(as_of: date, rng: random.Random, *, stale: float) -> str:
    """A last-active date: mostly within the last fortnight, ``stale`` share long ago."""
    if rng.random() < stale:
        days = rng.randint(45, 400)
    else:
        days = int(rng.expovariate(1 / 4))
    return (as_of - timedelta(days=min(days, 400))).isoformat()


def _heavy_tail(rng: random.Random, population: int, smallest: int = 1) -> int:
    """How many people use a grant: Pareto-like, capped at the whole tenant."""
    return min(population, int(smallest / (rng.random() ** 1.1 + 1e-9)))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate(people: int, seed: int = SEED) -> Inventory:
    """A tenant of ``people`` staff accounts (plus guests), deterministic in ``seed``."""
    if people < 10:
        raise ValueError("a tenant needs at least 10 people")
    rng = random.Random(f"{seed}:{people}")
    t = _Template()
    demo = t.demo
    org = demo.organisation
    org = replace(org, name=f"{org.name} (synthetic, {people:,} people)")
    as_of = datetime.fromisoformat(org.as_of.replace("Z", "+00:00")).date()
    domain = org.domains[0]
    m365 = SourceRef("m365", "directory.users")

    # --- departments: regional copies of the demo's ------------------------------------
    areas = max(1, round(math.sqrt(people / 100)))
    departments = [(d if areas == 1 or not d else f"{d} - Area {a + 1}", d)
                   for d in t.departments for a in range(areas)]
    dept_weights = [t.department_weights[t.departments.index(base)] for _n, base in departments]

    # --- people ---------------------------------------------------------------------
    staff: list[Person] = []
    seen: set[str] = set()
    for dept, base in rng.choices(departments, dept_weights, k=people):
        first, last = rng.choice(t.first), rng.choice(t.last)
        stem = f"{first}.{last}".lower().replace("'", "")
        pid, n = f"{stem}@{domain}", 1
        while pid in seen:
            n += 1
            pid = f"{stem}{n}@{domain}"
        seen.add(pid)
        staff.append(Person(
            id=pid, display_name=f"{first} {last}", email=pid, department=dept,
            job_title=rng.choice(t.titles.get(base) or [""]),
            enabled=rng.random() > 0.025, licences=rng.choice(t.licences),
            attributes={"entra_id": _uuid(rng)}, sources=(m365,),
        ))
    partners = [*t.guest_domains,
                *(f"partner{i:04d}.example" for i in range(max(4, people // 500)))]
    guests = []
    for i in range(max(3, int(people * GUEST_SHARE))):
        home = rng.choice(partners)
        gid = f"guest{i:05d}@{home}"
        guests.append(Person(
            id=gid, display_name=f"Guest {i} ({home})", email=gid, guest=True,
            attributes={"entra_id": _uuid(rng), "home_domain": home,
                        "upn": f"{gid.replace('@', '_')}#EXT#@{domain}"},
            sources=(SourceRef("m365", "directory.guests"),),
        ))
    active = [p for p in staff if p.enabled]

    # --- Google and Slack accounts of the same people (merged by resolution) -----------
    google_src = SourceRef("google", "directory.users")
    google_people = rng.sample(active, int(len(active) * GOOGLE_SHARE))
    google: list[Person] = []
    accounts: list[Account] = []
    for p in google_people:  # the same draws, in the same order, as before accounts
        gid, enrolled, admin = str(rng.getrandbits(60)), rng.random() < 0.7, \
            rng.random() < 0.005
        google.append(Person(id=p.id, display_name=p.display_name, email=p.email,
                             department=p.department, enabled=True,
                             attributes={"google_id": gid}, sources=(google_src,)))
        accounts.append(Account(p.id, AppRef("slug", "google-workspace-identity"),
                                mfa=enrolled, admin=admin,
                                role="super_admin" if admin else "user",
                                source=SourceRef("google", "accounts.mfa")))
    slack_people = rng.sample(active, int(len(active) * SLACK_SHARE))
    slack_src = t.slack_person.sources[0]
    slack: list[Person] = []
    for p in slack_people:
        sid, has_2fa = f"U{rng.getrandbits(40):010X}", rng.random() < 0.8
        role = "admin" if rng.random() < 0.01 else "member"
        countries = ("GB",) if rng.random() < 0.97 else (
            "GB", rng.choice(["IE", "ES", "IN", "NG", "US"]))
        slack.append(Person(id=p.id, display_name=p.display_name, email=p.email,
                            job_title=p.job_title, attributes={"slack_id": sid},
                            sources=(slack_src,)))
        accounts.append(Account(p.id, AppRef("platform", t.slack_platform.id), mfa=has_2fa,
                                admin=role == "admin", role=role,
                                login_countries=tuple(sorted(countries)),
                                source=SourceRef("slack", "accounts.mfa")))
    # Entra ID accounts of everyone in the directory, from the registration report (an
    # RNG of their own: every other record is the same as before accounts existed)
    mfa_rng = random.Random(f"{seed}:{people}:mfa")
    accounts.extend(
        Account(p.id, AppRef("slug", "entra-id"), enabled=p.enabled,
                mfa=mfa_rng.random() < 0.85 if p.enabled else None,
                mfa_enforced=False, admin=mfa_rng.random() < 0.003 if p.enabled else None,
                source=SourceRef("m365", "accounts.mfa"))
        for p in (*staff, *guests))

    # --- platforms ------------------------------------------------------------------
    google_platforms = [
        Platform(id=slug, ref=AppRef("slug", slug), sources=(google_src,))
        for slug in ("google-workspace-identity", "gmail", "google-chat", "google-meet")
    ]
    platforms = [*demo.platforms, *google_platforms]

    # --- usage ----------------------------------------------------------------------
    usage_src = SourceRef("m365", "activity.usage", "Teams user activity")
    mail_src = SourceRef("m365", "activity.usage", "Email activity")
    usages: list[Usage] = []
    for p in active:
        if p.licences and rng.random() < 0.95:
            usages.append(Usage(p.id, AppRef("slug", "teams"), _date(as_of, rng, stale=0.06),
                                dict(t.usage_activity.get("teams", {})), usage_src))
        if p.licences and rng.random() < 0.97:
            usages.append(Usage(p.id, AppRef("slug", "exchange-online"),
                                _date(as_of, rng, stale=0.03),
                                dict(t.usage_activity.get("exchange-online", {})), mail_src))
    g_usage = SourceRef("google", "activity.usage", "gmail and chat usage")
    for p in google:
        usages.append(Usage(p.id, AppRef("slug", "gmail"), _date(as_of, rng, stale=0.2),
                            {"emails_sent": rng.randint(0, 400)}, g_usage))
        if rng.random() < 0.4:
            usages.append(Usage(p.id, AppRef("slug", "google-chat"), None,
                                {"messages": rng.randint(1, 300)}, g_usage))
        if rng.random() < 0.5:
            usages.append(Usage(p.id, AppRef("slug", "google-meet"),
                                _date(as_of, rng, stale=0.3), {"meetings": rng.randint(1, 30)},
                                g_usage))
    slack_ref = AppRef("platform", t.slack_platform.id)
    s_usage = SourceRef("slack", "activity.usage", "team.accessLogs")
    usages.extend(Usage(p.id, slack_ref, _date(as_of, rng, stale=0.1), {}, s_usage)
                  for p in slack)

    # --- devices: whole app sets drawn from the demo's devices ------------------------
    devices: list[Device] = []
    for p in staff:
        for _ in range(1 if rng.random() < 0.8 else 2):
            shape = rng.choice(t.devices)
            devices.append(replace(shape, id=_uuid(rng), owner=p.id))

    # --- integrations: the demo's, scaled, plus a long tail of smaller apps -----------
    member_ids = [p.id for p in active]
    scale = people / t.staff
    integrations: list[Integration] = []
    for i in demo.integrations:
        if i.users:
            n = min(len(member_ids), max(1, round(len(i.users) * scale)))
            users = tuple(sorted(rng.sample(member_ids, n)))
            integrations.append(replace(i, users=users, user_count=max(i.user_count, n)))
        else:
            integrations.append(i)
    oauth = [i for i in demo.integrations if i.kind == "oauth"]
    for k in range(max(10, people // 250)):
        shape = rng.choice(oauth)
        n = _heavy_tail(rng, len(member_ids))
        users = tuple(sorted(rng.sample(member_ids, n)))
        consent = "user" if n < 50 or rng.random() < 0.5 else "admin"
        name = f"Line-of-business App {k:04d}" if rng.random() < 0.6 else shape.name
        integrations.append(replace(
            shape, id=f"entra:{_uuid(rng)}:oauth", name=name,
            app=AppRef("entra_app", name), users=users, user_count=n, consent_type=consent,
            scopes=rng.choice([o.scopes for o in oauth]),
            verified_publisher=rng.random() < 0.4,
        ))

    # --- external links -------------------------------------------------------------
    links = list(demo.external_links)
    teams = AppRef("slug", "teams")
    guest_src = SourceRef("m365", "collab.external_channels", "Teams guest members")
    by_domain: dict[str, list[str]] = {}
    for g in guests:
        by_domain.setdefault(g.email.rsplit("@", 1)[-1], []).append(g.id)
    for home, ids in sorted(by_domain.items()):
        links.append(ExternalLink(teams, "guest_access", home, tuple(ids),
                                  f"guests from {home}", {"teams": [f"Partner team {home}"]},
                                  guest_src))
    fwd_src = SourceRef("m365", "mail.forwarding", "inbox rules")
    for target in ("gmail.com", "hotmail.co.uk", "yahoo.co.uk", "icloud.com"):
        who = tuple(sorted(rng.sample(member_ids, max(1, people // 400))))
        links.append(ExternalLink(AppRef("slug", "exchange-online"), "mail_forwarding", target,
                                  who, f"{len(who)} mailbox(es) forward by inbox rule",
                                  {"rules": len(who)}, fwd_src))

    # --- phone numbers --------------------------------------------------------------
    shapes = [n for n in demo.phone_numbers if n.kind == "user"] or list(demo.phone_numbers)
    phones: list[PhoneNumber] = []
    for i, p in enumerate(rng.sample(active, int(len(active) * PHONE_SHARE))):
        shape = rng.choice(shapes)
        phones.append(replace(shape, number=f"+44113{4_000_000 + i:07d}", owner=p.id))
    for i in range(max(10, people // 200)):
        shape = rng.choice(demo.phone_numbers)
        phones.append(replace(shape, number=f"+44800{1_000_000 + i:07d}", owner=None,
                              kind="service"))

    # --- observations: interviews per area, sightings from generated proxy-log lines --
    observations: list[Observation] = []
    interviews = [o for o in demo.observations if o.source.connector == "manual"]
    for a in range(areas):
        for o in interviews:
            dept = o.department
            if dept and areas > 1:
                dept = f"{dept} - Area {a + 1}"
            observations.append(replace(o, department=dept))
    log_observations, log_coverage = _network_sightings(active, rng, as_of)
    observations.extend(log_observations)

    # --- coverage: the demo's, with the counts of this tenant -------------------------
    coverage = _coverage(demo.coverage, {
        ("m365", "directory.users"): len(staff), ("m365", "directory.guests"): len(guests),
        ("m365", "devices.apps"): len(devices), ("phone", "phone.numbers"): len(phones),
        ("m365", "oauth.grants"): len(integrations),
    })
    coverage = [c for c in coverage if c.connector != "network_logs"]
    coverage.append(log_coverage)
    coverage.extend(Coverage("google", topic, "collected", f"{len(google):,} accounts",
                             len(google))
                    for topic in ("directory.users", "activity.usage", "accounts.mfa"))

    return Inventory(
        organisation=org,
        people=(*staff, *guests, *google, *slack),
        platforms=tuple(platforms),
        usages=tuple(usages),
        accounts=tuple(accounts),
        devices=tuple(devices),
        integrations=tuple(integrations),
        external_links=tuple(links),
        phone_numbers=tuple(phones),
        mail_domains=demo.mail_domains,
        observations=tuple(observations),
        coverage=tuple(coverage),
    )


def _coverage(rows: Sequence[Coverage], items: dict[tuple[str, str], int]) -> list[Coverage]:
    out = []
    for c in rows:
        n = items.get((c.connector, c.topic))
        out.append(c if n is None else replace(c, items=n, detail=f"{n:,} records (synthetic)"))
    return out


def proxy_log_lines(people: Sequence[Person], rng: random.Random, as_of: date) -> list[str]:
    """CSV proxy-log lines: each person's ordinary browsing plus the consumer products
    they use (at the shares of :data:`WEB_PRODUCTS`), over the week before ``as_of``."""
    start = datetime(as_of.year, as_of.month, as_of.day) - timedelta(days=7)
    lines = ["time,user,host,action,bytes"]
    for p in people:
        hosts = [h for h, share in WEB_PRODUCTS if rng.random() < share]
        hosts += rng.sample(OTHER_HOSTS, 2)
        for host in hosts:
            for _ in range(rng.randint(1, 3)):
                when = start + timedelta(seconds=rng.randint(0, 7 * 86400))
                action = "DENIED" if rng.random() < 0.05 else "OBSERVED"
                lines.append(f"{when:%Y-%m-%dT%H:%M:%SZ},{p.id},{host},{action},"
                             f"{rng.randint(200, 90_000)}")
    return lines


def _network_sightings(people: Sequence[Person], rng: random.Random,
                       as_of: date) -> tuple[list[Observation], Coverage]:
    """Run generated log lines through the real reader: what the connector would emit."""
    from sprawl_audit.catalog import load_catalog
    from sprawl_audit.connectors.network_logs.reader import read_network_log
    from sprawl_audit.connectors.network_logs.transform import transform_network_logs

    lines = proxy_log_lines(people, rng, as_of)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "proxy.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary = read_network_log(path, load_catalog(), format="csv", name="proxy.csv")
    out = transform_network_logs([summary])
    return list(out.observations), out.coverage[0]


def write(people: int, path: Path, seed: int = SEED) -> Inventory:
    from sprawl_audit.inventory.snapshot import write_snapshot

    inventory = generate(people, seed)
    write_snapshot(inventory, path)
    return inventory


def summary(inventory: Inventory) -> str:
    apps = sum(len(d.apps) for d in inventory.devices)
    grants = sum(len(i.users) for i in inventory.integrations)
    return (f"{len(inventory.people):,} person records, {len(inventory.usages):,} usages, "
            f"{len(inventory.devices):,} devices ({apps:,} apps), "
            f"{len(inventory.integrations):,} integrations ({grants:,} user grants), "
            f"{len(inventory.phone_numbers):,} numbers, "
            f"{len(inventory.external_links):,} external links, "
            f"{len(inventory.observations):,} observations")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tenant",
                                     description="Write a synthetic tenant snapshot.")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    inventory = write(args.people, args.output, args.seed)
    print(f"{args.output}: {summary(inventory)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
