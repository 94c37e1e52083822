"""Parse published mail-authentication records (SPF, DMARC, MTA-STS).

Only the parts the rules reason about: who may send (SPF includes), how strict the
domain is (the ``all`` qualifier, DMARC policy and pct), and how many DNS lookups SPF
evaluation costs — RFC 7208 fails evaluation past ten, which silently breaks mail
authentication for every sender.
"""

from __future__ import annotations

from dataclasses import dataclass

# RFC 7208 4.6.4: these terms each cost a DNS lookup.
_LOOKUP_TERMS = ("include", "a", "mx", "ptr", "exists", "redirect")


@dataclass(frozen=True)
class Spf:
    includes: tuple[str, ...]
    all_qualifier: str | None  # "-all", "~all", "?all", "+all" or None
    lookups: int
    redirect: str | None


def parse_spf(record: str | None) -> Spf | None:
    if not record or not record.strip().lower().startswith("v=spf1"):
        return None
    includes: list[str] = []
    all_q: str | None = None
    lookups = 0
    redirect = None
    for term in record.split()[1:]:
        t = term.strip()
        low = t.lower()
        qualifier = "+"
        if low[:1] in "+-~?":
            qualifier, low = low[0], low[1:]
        name = low.split(":", 1)[0].split("=", 1)[0].split("/", 1)[0]
        if name == "all":
            all_q = f"{qualifier}all"
        elif name == "include" and ":" in low:
            includes.append(low.split(":", 1)[1].rstrip("."))
        elif name == "redirect" and "=" in low:
            redirect = low.split("=", 1)[1].rstrip(".")
        if name in _LOOKUP_TERMS:
            lookups += 1
    return Spf(tuple(includes), all_q, lookups, redirect)


@dataclass(frozen=True)
class Dmarc:
    policy: str | None
    subdomain_policy: str | None
    pct: int
    rua: tuple[str, ...]
    ruf: tuple[str, ...]


def parse_tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            tags.setdefault(k.strip().lower(), v.strip())
    return tags


def parse_dmarc(record: str | None) -> Dmarc | None:
    if not record or not record.strip().lower().startswith("v=dmarc1"):
        return None
    tags = parse_tags(record)
    policy = tags.get("p", "").lower() or None
    if policy not in (None, "none", "quarantine", "reject"):
        policy = None
    sp = tags.get("sp", "").lower() or policy
    try:
        pct = int(tags.get("pct", "100"))
    except ValueError:
        pct = 100
    return Dmarc(
        policy=policy, subdomain_policy=sp, pct=max(0, min(100, pct)),
        rua=_uris(tags.get("rua", "")), ruf=_uris(tags.get("ruf", "")),
    )


def _uris(value: str) -> tuple[str, ...]:
    out = []
    for part in value.split(","):
        p = part.strip()
        if p.lower().startswith("mailto:"):
            p = p[7:]
        p = p.split("!", 1)[0]
        if p:
            out.append(p.lower())
    return tuple(out)


def parse_mta_sts_mode(policy_text: str | None) -> str | None:
    """The ``mode`` line of an MTA-STS policy file (enforce, testing, none)."""
    if not policy_text:
        return None
    for line in policy_text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            if k.strip().lower() == "mode":
                mode = v.strip().lower()
                return mode if mode in ("enforce", "testing", "none") else None
    return None
