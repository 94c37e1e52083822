"""Mail domains: who receives and sends as the organisation, and how strictly.

A lookup that got no answer (timeout, SERVFAIL, REFUSED: ``attributes.errors`` from the
email connector) is not a missing record. Each domain says which records could not be
read (``lookup_failures``) and why, in words a report can show (``lookup_errors``), so the
rules about those records leave the domain *not assessed* instead of failing or passing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.graph import AuditGraph
from sprawl_audit.mailauth import parse_dmarc, parse_mta_sts_mode, parse_spf

#: Records a lookup failure can leave unknown, as the rules name them.
RECORDS: tuple[str, ...] = ("mx", "spf", "spf_tree", "dmarc", "dkim", "mta_sts", "tls_rpt")
_LABELS = {"mx": "MX", "spf": "SPF (TXT)", "spf_tree": "SPF include", "dmarc": "DMARC",
           "dkim": "DKIM", "mta_sts": "MTA-STS", "tls_rpt": "TLS-RPT"}
#: The connector's error keys -> the records they leave unknown.
_AFFECTS: dict[str, tuple[str, ...]] = {
    "mx": ("mx",),
    "txt": ("spf", "spf_tree"),  # the apex TXT holds SPF, the root of the include tree
    "dmarc": ("dmarc",),
    "mta_sts": ("mta_sts",),
    "mta_sts_policy": ("mta_sts",),
    "tls_rpt": ("tls_rpt",),
    "other lookups": ("dmarc", "dkim", "mta_sts", "tls_rpt"),
    "answers": RECORDS,
}
#: Not failures: answers saying the name or record does not exist.
_ANSWERS = frozenset({"NXDOMAIN", "NODATA"})


def _phrase(error: str) -> str:
    low = error.strip().lower()
    if low == "timeout":
        return "timed out"
    if low == "skipped":
        return "was not asked (the domain's MX and TXT lookups timed out)"
    if error.upper() in ("SERVFAIL", "REFUSED"):
        return f"got {error.upper()}"
    return f"failed ({error})"


def lookup_failures(domain: str, errors: Any) -> dict[str, str]:
    """record -> "DMARC lookup for example.org timed out", for every record a failed lookup
    left unknown (the first failure wins where several touch one record)."""
    out: dict[str, str] = {}
    if not isinstance(errors, Mapping):
        return out
    for key, value in errors.items():
        error = str(value)
        if error in _ANSWERS:
            continue
        name = str(key)
        if name.startswith("dkim "):
            records: tuple[str, ...] = ("dkim",)
            what = f"DKIM selector {name[5:]}"
        elif name.startswith("spf include "):
            records = ("spf_tree",)
            what = f"SPF include {name[12:]}"
        else:
            records = _AFFECTS.get(name, ())
            what = ""
        for record in records:
            label = what or _LABELS[record]
            out.setdefault(record, f"{label} lookup for {domain} {_phrase(error)}")
    return {r: out[r] for r in RECORDS if r in out}


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    by_domain = {m.domain.lower(): m for m in ag.inventory.mail_domains}
    for dnode in ag.nodes_of("mail_domain"):
        facts = g.nodes[dnode]
        m = by_domain[facts["domain"]]
        failures = lookup_failures(m.domain, m.attributes.get("errors"))
        spf = parse_spf(m.spf)
        dmarc = parse_dmarc(m.dmarc)
        providers = sorted({g.nodes[t]["id"] for _s, t, d in g.out_edges(dnode, data="type")
                            if d == "RECEIVES_VIA"})
        senders = sorted({g.nodes[t]["id"] for _s, t, d in g.out_edges(dnode, data="type")
                          if d == "SENDS_VIA"})
        facts.update(
            mx=list(m.mx),
            mail_providers=providers,
            spf=m.spf,
            spf_all=spf.all_qualifier if spf else None,
            spf_includes=list(spf.includes) if spf else [],
            # the whole include tree when the email connector resolved it (RFC 7208's
            # limit applies to the tree), else the top record's own terms
            spf_lookups=m.attributes.get("spf_lookups_total", spf.lookups if spf else 0),
            spf_senders=senders,
            dmarc=m.dmarc,
            dmarc_policy=dmarc.policy if dmarc else None,
            dmarc_subdomain_policy=dmarc.subdomain_policy if dmarc else None,
            dmarc_pct=dmarc.pct if dmarc else None,
            dmarc_rua=list(dmarc.rua) if dmarc else [],
            dkim_ok=sorted(s for s, ok in m.dkim.items() if ok),
            dkim_missing=sorted(s for s, ok in m.dkim.items() if not ok),
            mta_sts_mode=parse_mta_sts_mode(m.mta_sts),
            tls_rpt=bool(m.tls_rpt and m.tls_rpt.lower().startswith("v=tlsrptv1")),
            attributes=dict(m.attributes),
            lookup_failures=list(failures),
            lookup_errors=failures,
            lookup_summary="; ".join(failures.values()) or None,
            dmarc_rua_expected="dmarc_rua_unexpected" in m.attributes,
            dmarc_rua_gap=failures.get("dmarc") or (
                None if "dmarc_rua_unexpected" in m.attributes else
                f"no expected DMARC report addresses configured for {m.domain} "
                "(connectors.email.dmarc_report_addresses or the rule's expected_addresses)"),
        )
